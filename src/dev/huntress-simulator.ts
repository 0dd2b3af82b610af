/**
 * A Huntress API simulator for tests and local development: `startHuntressSimulator()` serves the
 * memberships API of the official reference (the Huntress API Reference, api.huntress.io/docs) on a
 * loopback port: Basic auth, 60 requests per minute, the reference's envelopes and paging. Wire
 * details and their sources are documented in ./huntress-sim/*.ts.
 */
export { DEFAULT_API_KEY, DEFAULT_API_SECRET, startHuntressSimulator, type HuntressSimulator, type HuntressSimulatorOptions, type RateLimit } from "./huntress-sim/server.js";
export { Faults, type FaultMatch } from "./huntress-sim/faults.js";
export { PERMISSIONS, WRITABLE_PERMISSIONS, type ErrorShape, type Permission, type SimInvitation, type SimMembership, type SimScope, type SimUser, type WritablePermission } from "./huntress-sim/model.js";
export { SimState } from "./huntress-sim/state.js";
