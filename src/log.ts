/**
 * The logger: winston, one JSON object per line. A redaction format masks any field whose name
 * says it holds a secret, so a token passed in metadata by mistake never reaches the log.
 */
import winston from "winston";
import type { Config } from "./config.js";

export type Logger = winston.Logger;

const SECRET_KEY = /token|secret|password|authorization|cookie|api[-_]?key/i;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v, depth + 1);
  return out;
}

const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === "level" || key === "message") continue;
    info[key] = SECRET_KEY.test(key) && key !== "tokenName" ? "[redacted]" : redact(info[key]);
  }
  return info;
});

export function createLogger(level: Config["logLevel"], stream?: NodeJS.WritableStream): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(redactSecrets(), winston.format.timestamp(), winston.format.json()),
    transports: [stream ? new winston.transports.Stream({ stream }) : new winston.transports.Console()],
  });
}
