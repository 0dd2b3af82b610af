/**
 * What can go wrong between the bridge and HaloPSA, switchable at runtime from a test: HaloPSA's
 * own rolling-window rate limit, 5xx bursts, hangs, 429 storms, added latency, and the several
 * error body layouts HaloPSA answers with. The switches themselves are shared (../sim/faults.ts).
 */
import { SimFaults } from "../sim/faults.js";
import type { ErrorShape } from "./model.js";

export type { FaultMatch } from "../sim/faults.js";
export { RollingWindow, type RateLimit } from "../sim/rolling-window.js";

/**
 * docs/vendor-facts.md (HaloPSA): hosted Halo answers 429 with this text, plain, and no Retry-After header.
 * The text is HaloPSA's, so it stays the same whatever window the simulator is configured with.
 */
export const RATE_LIMIT_TEXT = "Rate Limit Reached - 300 Requests per rolling 5 minute window";

/** HaloPSA's injected errors name one of its body layouts (unset: the current `errorShape`) and may carry their own message. */
export class Faults extends SimFaults<ErrorShape, { shape: ErrorShape; message: string }> {
  constructor() {
    super("ClassName");
  }
}

/** The body of an error in one of HaloPSA's layouts (docs/vendor-facts.md; HaloAPI Private/New-HaloError.ps1). */
export function errorBody(shape: ErrorShape, status: number, message: string): { json?: unknown; text?: string } {
  switch (shape) {
    case "error":
      return { json: { error: message } };
    case "Message":
      return { json: { Message: message } };
    case "errorMessage":
      return { json: { resultCode: status, errorMessage: message } };
    case "ClassName":
      return { json: { ClassName: status >= 500 ? "System.Exception" : "HaloValidationException", Message: message } };
    case "text":
      return { text: message };
    case "empty":
      return { text: "" };
  }
}
