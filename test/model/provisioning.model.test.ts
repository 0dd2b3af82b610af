/**
 * A model-based test of the whole provisioning loop: random stories of SCIM changes (people
 * created, deleted and re-created, addresses re-spelled, groups and the active flag changed),
 * bridge restarts with other rules, HaloPSA admins editing agents by hand, and HaloPSA faults
 * (5xx, 429, timeouts, creates that land after the client gave up), run against a real bridge
 * and the HaloPSA simulator. After each story settles (queue empty, two reconcile passes) the
 * invariants of ../support/model/invariants.ts must hold.
 *
 * CI runs a fixed seed and a bounded number of stories. More: MODEL_RUNS=500 MODEL_SEED=123.
 * One invariant at a time (to shrink a counterexample for it alone): MODEL_INVARIANTS=2,5.
 * MODEL_VERBOSE=1 prints each story.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { storyArbitrary } from "../support/model/commands.js";
import { checkInvariants, INVARIANTS, type InvariantId } from "../support/model/invariants.js";
import { PEOPLE, ProvisioningModel, spell, SPELLINGS } from "../support/model/model.js";
import { ProvisioningWorld } from "../support/model/world.js";

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === "" ? fallback : Number(raw);
}

const RUNS = envInt("MODEL_RUNS", 25);
const SEED = envInt("MODEL_SEED", 20_250_301);
const MAX_COMMANDS = envInt("MODEL_MAX_COMMANDS", 15);
const CHECKED: readonly InvariantId[] = (process.env["MODEL_INVARIANTS"] ?? "1,2,3,4,5,6")
  .split(",")
  .map((s) => Number(s.trim()) as InvariantId)
  .filter((n) => n in INVARIANTS);

const story = fc.record({
  enforceDrift: fc.boolean(),
  ssoEmailMustMatch: fc.boolean(),
  /** Agents a HaloPSA admin made by hand before the bridge ever ran. */
  handMadeAgents: fc.array(
    fc.tuple(fc.constantFrom(...PEOPLE), fc.constantFrom(...SPELLINGS)).map(([p, s]) => spell(p, s)),
    { maxLength: 2 },
  ),
  steps: storyArbitrary(Math.min(6, MAX_COMMANDS), MAX_COMMANDS),
});

describe("provisioning loop (model-based)", () => {
  it(`keeps invariants ${CHECKED.join(", ")} through random stories of SCIM changes, restarts, HaloPSA edits and faults`, { timeout: 3_600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(story, async (s) => {
        const config = { enforceDrift: s.enforceDrift, ssoEmailMustMatch: s.ssoEmailMustMatch };
        const world = await ProvisioningWorld.start(config, s.handMadeAgents);
        try {
          const model = new ProvisioningModel(config);
          await fc.asyncModelRun(() => ({ model, real: world }), s.steps);
          await world.settleWithReconcile();
          // MODEL_VERBOSE=1 prints every story as it ran (to see what the generator explores).
          if (process.env["MODEL_VERBOSE"] === "1") console.log(`story (enforceDrift ${s.enforceDrift}, sso ${s.ssoEmailMustMatch}):${String(s.steps)}`);
          const violations = checkInvariants(model, world.scimIds, await world.observe()).filter((v) => CHECKED.includes(v.invariant));
          if (violations.length > 0) {
            throw new Error(`invariants broken:\n${violations.map((v) => `  [${v.invariant}] ${INVARIANTS[v.invariant]}: ${v.message}`).join("\n")}`);
          }
        } finally {
          await world.close();
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: process.env["MODEL_SHRINK"] === "0" },
    );
  });
});
