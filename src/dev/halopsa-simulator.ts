/**
 * A HaloPSA simulator for tests, benchmarks and local development: `startHaloPsaSimulator()`
 * serves HaloPSA's auth and the agent, ticket, team and role API on a loopback port. Wire details
 * and their sources are documented in ./halopsa-sim/*.ts.
 */
export { startHaloPsaSimulator, type HaloPsaSimulator, type HaloPsaSimulatorOptions } from "./halopsa-sim/server.js";
export { Faults, RATE_LIMIT_TEXT, type FaultMatch, type RateLimit } from "./halopsa-sim/faults.js";
export { CLOSED_STATUS_ID, type ErrorShape, type SimAgent, type SimRole, type SimTeam, type SimTicket } from "./halopsa-sim/model.js";
export { DEFAULT_ROLES, DEFAULT_TEAMS, SimState } from "./halopsa-sim/state.js";
export type { ListShapes } from "./halopsa-sim/routes.js";
