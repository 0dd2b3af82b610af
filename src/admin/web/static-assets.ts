/**
 * The stylesheet, the copy script and the icon, served from memory under a content-hashed name so browsers
 * can cache them for a year and still get a new version the moment it changes.
 */
import { createHash } from "node:crypto";
import type { RequestHandler } from "express";
import { COPY_SCRIPT } from "./assets/copy-script.js";
import { ICON_SVG } from "./assets/icon.js";
import { STYLESHEET } from "./assets/stylesheet.js";

interface Asset {
  readonly path: string;
  readonly type: string;
  readonly body: Buffer;
}

function asset(name: string, ext: string, type: string, text: string): Asset {
  const body = Buffer.from(text, "utf8");
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  return { path: `/admin/assets/${name}-${hash}.${ext}`, type, body };
}

export const STYLESHEET_ASSET = asset("admin", "css", "text/css; charset=utf-8", STYLESHEET);
export const SCRIPT_ASSET = asset("copy", "js", "text/javascript; charset=utf-8", COPY_SCRIPT);
export const ICON_ASSET = asset("icon", "svg", "image/svg+xml", ICON_SVG);

const byPath = new Map([STYLESHEET_ASSET, SCRIPT_ASSET, ICON_ASSET].map((a) => [a.path, a]));

/** Serves the assets; mounted at /admin, so `req.originalUrl` carries the full path. */
export const serveAsset: RequestHandler = (req, res, next) => {
  const found = byPath.get(req.originalUrl.split("?")[0]!);
  if (!found) return next();
  res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
  res.type(found.type).send(found.body);
};
