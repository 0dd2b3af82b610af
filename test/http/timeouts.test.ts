/**
 * Request timeouts on a real socket: a client that trickles its headers or its body is cut off with
 * 408 once its time is up, and an idle keep-alive connection outlives the headers timeout (it is
 * reused, not dropped) but not the keep-alive timeout. Small timeouts from the configuration keep
 * the test to seconds.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCIM_TOKEN, startBridge, type TestBridge } from "../support/bridge.js";

interface Connection {
  readonly socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with the time since the connection opened (ms) when the server closes it. */
  readonly closed: Promise<number>;
}

function open(url: string): Promise<Connection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    const socket = connect(Number(port), hostname, () => resolve({ socket, received: () => text, closed }));
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    const closed = new Promise<number>((done) => socket.on("close", () => done(Date.now() - opened)));
    socket.once("error", reject);
  });
}

/** Writes `text` one character every `everyMs` until the server closes the connection. */
async function trickle(c: Connection, text: string, everyMs: number): Promise<void> {
  for (const ch of text) {
    if (c.socket.destroyed || c.socket.writableEnded) return;
    c.socket.write(ch);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("request timeouts", () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({
      SCIM_BRIDGE_HEADERS_TIMEOUT_SECONDS: "1",
      SCIM_BRIDGE_REQUEST_TIMEOUT_SECONDS: "2",
      SCIM_BRIDGE_KEEP_ALIVE_TIMEOUT_SECONDS: "3",
    });
  });
  afterAll(() => bridge.close());

  it("cuts off a client that sends its headers and then trickles the body, with 408", async () => {
    const c = await open(bridge.running.url);
    const body = JSON.stringify({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "slow@example.com" });
    c.socket.write(
      `POST /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${SCIM_TOKEN}\r\nContent-Type: application/scim+json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // The whole body would take 200 ms × ~80 characters = 16 s.
    void trickle(c, body, 200);
    const after = await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    // 2 s request timeout, enforced on a 1 s check interval; the client would have needed 16 s.
    expect(after).toBeGreaterThanOrEqual(1900);
    expect(after).toBeLessThan(4500);
    expect(bridge.running.db.prepare("SELECT count(*) FROM users").pluck().get()).toBe(0);
  });

  it("cuts off a client that trickles its headers, with 408", async () => {
    const c = await open(bridge.running.url);
    void trickle(c, `GET /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${SCIM_TOKEN}\r\n\r\n`, 100);
    const after = await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(after).toBeGreaterThanOrEqual(900);
    expect(after).toBeLessThan(3500);
  });

  it("keeps an idle keep-alive connection past the headers timeout for the next request, and closes it after the keep-alive timeout", async () => {
    const c = await open(bridge.running.url);
    const get = `GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n`;
    c.socket.write(get);
    await sleep(1500);
    c.socket.write(get);
    await sleep(200);
    expect(c.received().match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    const after = await c.closed;
    // Closed about 3 s after the second answer (1.7 s in), never sooner.
    expect(after).toBeGreaterThanOrEqual(4400);
    expect(after).toBeLessThan(7000);
    expect(c.received()).not.toMatch(/HTTP\/1\.1 408 /);
  });
});
