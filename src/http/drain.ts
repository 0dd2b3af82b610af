/**
 * Stopping the HTTP server at shutdown without dropping an answer: no new connections, every
 * request already received is answered, then the connections close. A deadline bounds the wait,
 * so one stuck request cannot hold the process past the orchestrator's kill (Docker: 10 s).
 */
import type { Server } from "node:http";

/** How often connections that have finished their last request are closed while draining. */
const IDLE_SWEEP_MS = 50;

/**
 * Resolves when the server has closed: at once if nothing is in flight, when the last running
 * request is answered, or after `graceMs`, when connections still busy are cut. Resolves with the
 * number of connections that had to be cut.
 */
export async function drainHttp(server: Server, graceMs: number): Promise<number> {
  // Node 20 keeps serving further requests on an open keep-alive connection after close(), until
  // its keep-alive timeout (65 s here): ask every client to close after this answer, and close
  // each connection as soon as its request is done.
  server.on("request", (_req, res) => {
    if (!res.headersSent) res.setHeader("Connection", "close");
  });
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), graceMs);
  });
  try {
    if ((await Promise.race([closed, deadline])) !== "deadline") return 0;
    const busy = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
    server.closeAllConnections();
    await closed;
    return busy;
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
  }
}
