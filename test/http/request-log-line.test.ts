/**
 * The access log's line is written straight to the logger's output (src/log.ts logRequest), not
 * through winston's format pipeline: it must stay exactly the line winston would have written,
 * scrubbed of secrets the same way, and honour the log level.
 */
import { describe, expect, it } from "vitest";
import { SecretScrubber } from "../../src/domain/secret-scrubber.js";
import { logRequest, type RequestLine } from "../../src/log.js";
import { capturingLogger } from "../support/io.js";

const withoutTimestamp = (line: string) => line.replace(/"timestamp":"[^"]+"/, '"timestamp":"T"');

describe("the request log line", () => {
  const cases: RequestLine[] = [
    { requestId: "req-1", method: "GET", path: "/scim/v2/Users", status: 200, ms: 1.25, tokenName: "okta" },
    { requestId: "9b6f0c1e-1d8e-4c8e-9a55-0d5c0e6f1a2b", method: "DELETE", path: "/scim/v2/Users/x", status: 401, ms: 0, tokenName: undefined },
    { requestId: "quote\"and\\slash", method: "PATCH", path: "/scim/v2/Groups/ü \u2028", status: 500, ms: 12345.67, tokenName: "name with \"quotes\"" },
  ];

  it.each(cases)("is the line log.info would write: $method $status", (line) => {
    const direct = capturingLogger("info");
    const winston = capturingLogger("info");
    logRequest(direct.log, line);
    winston.log.info("request", { ...line });
    expect(direct.lines).toHaveLength(1);
    expect(withoutTimestamp(direct.lines[0]!)).toBe(withoutTimestamp(winston.lines[0]!));
    expect(JSON.parse(direct.lines[0]!)).toMatchObject({ level: "info", message: "request", timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it("scrubs a secret the client put in the path or the request id", () => {
    const secret = "s3cret-value-0123456789abcdef";
    const scrubber = new SecretScrubber();
    scrubber.register(secret);
    const { log, lines } = capturingLogger("info", scrubber);
    logRequest(log, { requestId: secret.slice(0, 20), method: "GET", path: `/scim/v2/Users/${secret}`, status: 404, ms: 1, tokenName: undefined });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(secret.slice(0, 12));
    expect(JSON.parse(lines[0]!)).toMatchObject({ path: "/scim/v2/Users/[redacted]", status: 404 });
  });

  it("is not written when the level is above info", () => {
    const { log, lines } = capturingLogger("warn");
    logRequest(log, cases[0]!);
    expect(lines).toEqual([]);
  });

  it("goes through winston for a child logger, with the child's metadata", () => {
    const { log, lines } = capturingLogger("info");
    logRequest(log.child({ component: "scim" }), cases[0]!);
    expect(JSON.parse(lines[0]!)).toMatchObject({ component: "scim", message: "request", path: "/scim/v2/Users" });
  });
});
