/**
 * What can go wrong between the bridge and Huntress, switchable at runtime from a test: error
 * bursts (5xx, 404, 403...), hangs, 429 storms and added latency. Huntress's own 60 requests per
 * minute sliding window is in server.ts (../sim/rolling-window.ts). The switches are shared (../sim/faults.ts).
 */
import { SimFaults } from "../sim/faults.js";
import type { ErrorShape } from "./model.js";

export type { FaultMatch } from "../sim/faults.js";

/** Huntress's injected errors may carry their own message; the body layout is `errorShape`'s. */
export class Faults extends SimFaults<ErrorShape, { message: string }> {
  constructor() {
    super("grape");
  }
}
