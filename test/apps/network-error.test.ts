import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { describeNetworkError, describeTimeout, endpointOf } from "../../src/apps/http/network-error.js";
import { freePort } from "../support/child-bridge.js";

async function fetchError(url: string): Promise<unknown> {
  try {
    await fetch(url);
  } catch (e: unknown) {
    return e;
  }
  throw new Error(`${url} answered`);
}

describe("network errors in words", () => {
  it("names host, port and 'connection refused' for a closed port", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/auth/token`;
    const { detail, code } = describeNetworkError(url, await fetchError(url));
    expect(code).toBe("ECONNREFUSED");
    expect(detail).toMatch(new RegExp(`^cannot reach 127\\.0\\.0\\.1:${port}: connection refused`));
  });

  it("says the name was not found for a host that does not exist", async () => {
    const url = "https://no-such-host.invalid/api";
    const { detail } = describeNetworkError(url, await fetchError(url));
    expect(detail).toMatch(/^cannot reach no-such-host\.invalid:443: name (not found|lookup failed)/);
  });

  it("gives the certificate's complaint for a self-signed TLS server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
    const server = createServer({ key: readFileSync(join(dir, "k.pem")), cert: readFileSync(join(dir, "c.pem")) }, (_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const url = `https://127.0.0.1:${port}/`;
    const { detail } = describeNetworkError(url, await fetchError(url));
    expect(detail).toMatch(new RegExp(`^cannot reach 127\\.0\\.0\\.1:${port}: TLS certificate problem: self[- ]signed certificate`));
  });

  it("words a timeout in seconds with the endpoint", () => {
    expect(describeTimeout("https://x.halopsa.com/auth/token", 30_000)).toBe("timed out after 30 s: no answer from x.halopsa.com:443");
    expect(endpointOf("http://h:8080/a?b=c")).toBe("h:8080");
  });
});
