/**
 * The ceiling for `npm run bench -- scim`: a separate process serving the same indexed
 * `userName eq` lookup from the same SQLite file through bare express, JSON out, and nothing else
 * (no auth, no log, no SCIM rendering). What the bridge costs per request is read against it.
 */
import express from "express";
import Database from "better-sqlite3";
import { fold } from "../src/domain/folding.js";

export interface CeilingReady {
  readonly port: number;
}

const file = process.env["BENCH_DB"];
if (file === undefined) throw new Error("BENCH_DB names the SQLite file the bench server seeded");
const db = new Database(file, { readonly: true });
const lookup = db.prepare("SELECT id, user_name, data, version, created_at, updated_at FROM users WHERE user_name_key = ?");
const app = express();
app.get("/bare/users", (req, res) => {
  const userName = typeof req.query["userName"] === "string" ? req.query["userName"] : "";
  res.json(lookup.get(fold(userName)) ?? null);
});
const server = app.listen(0, "127.0.0.1", () => {
  const ready: CeilingReady = { port: (server.address() as { port: number }).port };
  process.send?.(ready);
});
process.on("message", (m) => {
  if (m === "stop") {
    server.close();
    db.close();
    process.exit(0);
  }
});
