/**
 * Two things many tests need: a logger whose JSON lines the test can read, and one HTTP exchange
 * whose answer is parsed as JSON when it is JSON.
 */
import { Writable } from "node:stream";
import type { SecretScrubber } from "../../src/domain/secret-scrubber.js";
import { createLogger, type Logger } from "../../src/log.js";
import type { Config } from "../../src/config.js";

export function capturingLogger(level: Config["logLevel"] = "debug", scrubber?: SecretScrubber): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString("utf8").split("\n").filter((l) => l !== ""));
      cb();
    },
  });
  return { log: createLogger(level, sink, scrubber), lines };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/**
 * Sends `body` as JSON (a string or bytes are sent as is, raw) with `contentType`, and reads the answer.
 * `headers` override the defaults; a header set to null is not sent.
 */
export async function exchange(
  url: string,
  method: string,
  headers: Record<string, string | null>,
  body: unknown,
  contentType: string,
): Promise<HttpResult> {
  const merged: Record<string, string | null> = { ...(body === undefined ? {} : { "Content-Type": contentType }), ...headers };
  const res = await fetch(url, {
    method,
    headers: Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== null)),
    ...(body === undefined ? {} : { body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}
