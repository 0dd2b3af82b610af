/** Small named facts kept between runs (bridge_state). */
import type { Clock } from "../clock.js";
import type { Db } from "./database.js";

export class BridgeState {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  get(key: string): string | undefined {
    return this.db.prepare("SELECT value FROM bridge_state WHERE key = ?").pluck().get(key) as string | undefined;
  }

  set(key: string, value: string): void {
    this.db
      .prepare("INSERT INTO bridge_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
      .run(key, value, this.clock.now().toISOString());
  }
}
