/**
 * The logger: winston, one JSON object per line. A redaction format masks any field whose name
 * says it holds a secret, so a token passed in metadata by mistake never reaches the log, and runs
 * every other string (the message included) through the bridge's secret scrubber
 * (src/domain/secret-scrubber.ts), so a secret inside an error text is caught here too.
 *
 * Logging must never take the service down: in production the lines go to stdout through a sink
 * that drops a line it cannot write (ENOSPC on a full disk, EPIPE when the reader is gone) instead
 * of failing, and says how many it dropped once writing works again.
 */
import { fstatSync, writeSync } from "node:fs";
import { Writable } from "node:stream";
import { isatty } from "node:tty";
import winston from "winston";
import { SecretScrubber } from "./domain/secret-scrubber.js";

export type Logger = winston.Logger;

const SECRET_KEY = /token|secret|password|authorization|cookie|api[-_]?key/i;

function redact(value: unknown, scrub: (text: string) => string, depth = 0): unknown {
  if (typeof value === "string") return scrub(value);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, scrub, depth + 1));
  if (value instanceof Error) return { name: value.name, message: scrub(value.message), stack: value.stack === undefined ? undefined : scrub(value.stack) };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v, scrub, depth + 1);
  return out;
}

const redactSecrets = (scrub: (text: string) => string) =>
  winston.format((info) => {
    for (const key of Object.keys(info)) {
      if (key === "level") continue;
      info[key] = SECRET_KEY.test(key) && key !== "tokenName" && key !== "message" ? "[redacted]" : redact(info[key], scrub);
    }
    return info;
  })();

/** Writes one chunk; calls `done` with an error when the chunk could not be written. */
export type LineWriter = (chunk: Buffer, done: (error?: Error | null) => void) => void;

/**
 * A sink that never errors. A line `write` fails to take is counted and dropped; before the next
 * line that does get through, a warning line says how many were lost and why, so a gap in the
 * log is visible rather than silent.
 */
export class UnfailingSink extends Writable {
  private dropped = 0;
  private lastError = "";

  constructor(private readonly write1: LineWriter) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    const dropped = this.dropped;
    const line = dropped === 0 ? chunk : Buffer.concat([this.droppedNotice(dropped), chunk]);
    this.write1(line, (error) => {
      if (error) {
        this.dropped = dropped + 1;
        this.lastError = (error as NodeJS.ErrnoException).code ?? error.message;
      } else {
        this.dropped -= dropped;
      }
      callback();
    });
  }

  private droppedNotice(count: number): Buffer {
    const notice = { level: "warn", message: "log output failed; lines were dropped", dropped: count, error: this.lastError, timestamp: new Date().toISOString() };
    return Buffer.from(`${JSON.stringify(notice)}\n`);
  }
}

/**
 * stdout as a LineWriter. A file (or a device such as /dev/full) is written synchronously by fd,
 * so a write that failed on a full disk is simply tried again with the next line and logging
 * resumes by itself once there is space. A pipe or terminal goes through process.stdout, which
 * keeps node's buffering and back-pressure; after EPIPE its lines are dropped.
 */
function stdoutWriter(): LineWriter {
  // Without a listener an 'error' on stdout or stderr (EPIPE, ENOSPC) is thrown and ends the
  // process; the sink already accounts for stdout's lost lines, and stderr only carries crash text.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);
  const stat = fstatSync(1);
  if (stat.isFile() || (stat.isCharacterDevice() && !isatty(1))) {
    return (chunk, done) => {
      try {
        writeSync(1, chunk);
        done();
      } catch (e: unknown) {
        done(e instanceof Error ? e : new Error(String(e)));
      }
    };
  }
  return (chunk, done) => {
    if (process.stdout.destroyed) return done(new Error("stdout closed"));
    process.stdout.write(chunk, (error) => done(error));
  };
}

/** winston's npm levels, most severe first; config.ts validates LOG_LEVEL against them. */
export const LOG_LEVELS = ["error", "warn", "info", "http", "verbose", "debug", "silly"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where a logger made by createLogger writes its lines, and the scrubber its format uses. */
interface LineOutput {
  readonly stream: NodeJS.WritableStream;
  readonly scrub: (text: string) => string;
}

const outputs = new WeakMap<Logger, LineOutput>();

/**
 * A logger writing JSON lines to `stream`, or, in production (no stream), to stdout through an
 * UnfailingSink. `scrubber`: the bridge's one secret scrubber (its own, empty, when none is given).
 */
export function createLogger(level: LogLevel, stream?: NodeJS.WritableStream, scrubber: SecretScrubber = new SecretScrubber()): Logger {
  const output = { stream: stream ?? new UnfailingSink(stdoutWriter()), scrub: scrubber.scrub };
  const log = winston.createLogger({
    level,
    format: winston.format.combine(redactSecrets(scrubber.scrub), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: output.stream })],
  });
  outputs.set(log, output);
  return log;
}

/** The access log's fields (src/http/request-log.ts): flat strings and numbers only. */
export interface RequestLine {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly ms: number;
  readonly tokenName: string | undefined;
}

/**
 * Logs `request` at info: the same line, byte for byte, as `log.info("request", line)` (keys in the
 * sorted order winston's json format writes, every string through the same scrubber), written
 * straight to the logger's output. Winston's format pipeline and stream cost about 25 µs a line,
 * a tenth of a whole `userName eq` lookup; this costs about 5. A logger not made by createLogger
 * (a child logger) takes the ordinary path.
 */
export function logRequest(log: Logger, line: RequestLine): void {
  if (!log.isLevelEnabled("info")) return;
  const output = outputs.get(log);
  if (output === undefined) {
    log.info("request", { ...line });
    return;
  }
  const { scrub } = output;
  const json = JSON.stringify({
    level: "info",
    message: "request",
    method: scrub(line.method),
    ms: line.ms,
    path: scrub(line.path),
    requestId: scrub(line.requestId),
    status: line.status,
    timestamp: new Date().toISOString(),
    tokenName: line.tokenName === undefined ? undefined : scrub(line.tokenName),
  });
  output.stream.write(`${json}\n`);
}
