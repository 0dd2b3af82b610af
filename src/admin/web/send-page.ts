/**
 * Sends a rendered page with the time it took to read and render (Server-Timing, visible in the
 * browser's network panel), so "a page renders in a few ms" stays checkable.
 */
import type { Response } from "express";
import type { SafeHtml } from "./html.js";

export type SendPage = (res: Response, status: number, build: () => SafeHtml) => void;

export const sendPage: SendPage = (res, status, build) => {
  const started = process.hrtime.bigint();
  const page = build();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  res.status(status).setHeader("Server-Timing", `render;dur=${ms.toFixed(2)}`);
  res.type("html").send(page.value);
};
