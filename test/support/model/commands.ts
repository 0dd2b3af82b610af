/**
 * The steps of a provisioning story, as fast-check commands: what an IdP sends over SCIM, what an
 * operator does (restart, change rules), what a HaloPSA admin does behind the bridge's back, and
 * how HaloPSA misbehaves. Each SCIM step waits for the bridge to finish what it started, so the
 * story a counterexample tells is the order things happened in. toString() is that story.
 */
import fc from "fast-check";
import type { HttpResult } from "../io.js";
import { CORE_USER, patch } from "../scim.js";
import {
  describeRules,
  foldEmail,
  GROUPS,
  PEOPLE,
  RULE_SETS,
  show,
  SLOTS,
  spell,
  SPELLINGS,
  type GroupName,
  type ModelUser,
  type ProvisioningModel,
  type RuleSet,
  type Slot,
} from "./model.js";
import type { ProvisioningWorld } from "./world.js";

export type Command = fc.AsyncCommand<ProvisioningModel, ProvisioningWorld>;

/** The one late landing's delay: well past the client's timeout and the queue's first retry. */
const LAND_AFTER_MS = 800;

/** A step whose story line is fixed when it is generated, plus what happened when it ran. */
abstract class Step implements Command {
  private outcome = "";
  /** Whether the step makes sense in the model's state; by default always (restarts, faults). */
  check(_m: Readonly<ProvisioningModel>): boolean {
    return true;
  }
  /** Carries the step out against the real bridge and moves the model along with it. */
  protected abstract act(m: ProvisioningModel, w: ProvisioningWorld): Promise<void>;
  protected abstract describe(): string;
  /** Appends what the bridge answered (e.g. "refused 409") to the story line. */
  protected tell(outcome: string): void {
    this.outcome = ` → ${outcome}`;
  }
  run(m: ProvisioningModel, w: ProvisioningWorld): Promise<void> {
    // Shrinking replays the same step objects: forget what the previous replay told.
    this.outcome = "";
    return this.act(m, w);
  }
  /** One line of the story, on its own line. */
  toString(): string {
    return `\n    ${this.describe()}${this.outcome}`;
  }
}

function primaryEmail(resource: { emails?: { value?: string; primary?: boolean }[] }): string {
  const emails = resource.emails ?? [];
  return (emails.find((e) => e.primary) ?? emails[0])?.value ?? "";
}

/** The model user as the bridge now holds it (userName and email as stored, the active flag). */
function adopt(user: ModelUser, resource: any): void {
  user.userName = resource.userName as string;
  user.email = primaryEmail(resource);
  user.active = resource.active !== false;
}

/** A refusal the IdP could see as right: 409 only when another user's userName folds to the same. */
function justifiedRefusal(m: Readonly<ProvisioningModel>, res: HttpResult, userName: string, self: Slot | null): boolean {
  if (res.status !== 409) return false;
  return [...m.users.values()].some((u) => u.slot !== self && foldEmail(u.userName) === foldEmail(userName));
}

const addMember = (userId: string) => ({ op: "add", path: "members", value: [{ value: userId }] });

function expectStatus(res: HttpResult, ok: readonly number[], what: string): void {
  if (!ok.includes(res.status)) throw new Error(`${what}: SCIM answered ${res.status} ${res.text}`);
}

class CreateUser extends Step {
  constructor(
    private readonly slot: Slot,
    private readonly userName: string,
    private readonly email: string,
    /** Groups the IdP puts the new user in straight away (as it does when a user is assigned through a group). */
    private readonly groups: readonly GroupName[],
  ) {
    super();
  }
  override check(m: Readonly<ProvisioningModel>): boolean {
    return !m.users.has(this.slot);
  }
  protected describe(): string {
    const into = this.groups.length === 0 ? "" : ` in ${this.groups.map((g) => `"${g}"`).join(" and ")}`;
    return `create ${this.slot} (userName ${show(this.userName)}, email ${show(this.email)})${into}`;
  }
  protected async act(m: ProvisioningModel, w: ProvisioningWorld): Promise<void> {
    const res = await w.scim("POST", "/Users", {
      schemas: [CORE_USER],
      userName: this.userName,
      active: true,
      name: { givenName: "Given", familyName: this.slot },
      displayName: `Given ${this.slot}`,
      emails: [{ primary: true, type: "work", value: this.email }],
    });
    if (res.status !== 201) {
      if (!justifiedRefusal(m, res, this.userName, null)) throw new Error(`${this.describe()}: SCIM answered ${res.status} ${res.text}`);
      this.tell(`refused ${res.status}`);
      return;
    }
    const user: ModelUser = { slot: this.slot, userName: "", email: "", active: true, groups: new Set() };
    adopt(user, res.body);
    m.users.set(this.slot, user);
    w.scimIds.set(this.slot, res.body.id as string);
    for (const g of this.groups) {
      expectStatus(await w.scim("PATCH", `/Groups/${w.groupIds.get(g)!}`, patch(addMember(res.body.id as string))), [204], this.describe());
      user.groups.add(g);
    }
    await w.settle();
  }
}

class DeleteUser extends Step {
  constructor(private readonly slot: Slot) {
    super();
  }
  override check(m: Readonly<ProvisioningModel>): boolean {
    return m.users.has(this.slot);
  }
  protected describe(): string {
    return `delete ${this.slot}`;
  }
  protected async act(m: ProvisioningModel, w: ProvisioningWorld): Promise<void> {
    const res = await w.scim("DELETE", `/Users/${w.scimIds.get(this.slot)!}`);
    expectStatus(res, [204], this.describe());
    m.users.delete(this.slot);
    w.scimIds.delete(this.slot);
    await w.settle();
  }
}

/** Patches one user; a refusal by the bridge (409 on a taken userName) leaves the model as it was. */
abstract class PatchUser extends Step {
  constructor(protected readonly slot: Slot) {
    super();
  }
  override check(m: Readonly<ProvisioningModel>): boolean {
    return m.users.has(this.slot);
  }
  protected abstract operations(): unknown[];
  /** The userName the patch asks for, when it changes it (to judge a 409). */
  protected abstract wantedUserName(): string | null;
  protected async act(m: ProvisioningModel, w: ProvisioningWorld): Promise<void> {
    const res = await w.scim("PATCH", `/Users/${w.scimIds.get(this.slot)!}`, patch(...this.operations()));
    if (res.status !== 200) {
      const userName = this.wantedUserName();
      if (userName === null || !justifiedRefusal(m, res, userName, this.slot)) throw new Error(`${this.describe()}: SCIM answered ${res.status} ${res.text}`);
      this.tell(`refused ${res.status}`);
      return;
    }
    adopt(m.users.get(this.slot)!, res.body);
    await w.settle();
  }
}

class ChangeAddress extends PatchUser {
  constructor(
    slot: Slot,
    private readonly userName: string,
    private readonly email: string,
  ) {
    super(slot);
  }
  protected describe(): string {
    return `change ${this.slot} to userName ${show(this.userName)}, email ${show(this.email)}`;
  }
  protected operations(): unknown[] {
    return [
    { op: "replace", path: "userName", value: this.userName },
    { op: "replace", path: "emails", value: [{ primary: true, type: "work", value: this.email }] },
  ];
  }
  protected wantedUserName(): string | null {
    return this.userName;
  }
}

class SetActive extends PatchUser {
  constructor(
    slot: Slot,
    private readonly active: boolean,
  ) {
    super(slot);
  }
  protected describe(): string {
    return `${this.active ? "reactivate" : "deactivate"} ${this.slot} (PATCH active ${this.active})`;
  }
  protected operations(): unknown[] {
    return [{ op: "replace", path: "active", value: this.active }];
  }
  protected wantedUserName(): string | null {
    return null;
  }
}

class SetMembership extends Step {
  constructor(
    private readonly slot: Slot,
    private readonly group: GroupName,
    private readonly member: boolean,
  ) {
    super();
  }
  override check(m: Readonly<ProvisioningModel>): boolean {
    return m.users.get(this.slot)?.groups.has(this.group) === !this.member;
  }
  protected describe(): string {
    return (this.member ? `add ${this.slot} to "${this.group}"` : `remove ${this.slot} from "${this.group}"`);
  }
  protected async act(m: ProvisioningModel, w: ProvisioningWorld): Promise<void> {
    const userId = w.scimIds.get(this.slot)!;
    const op = this.member ? addMember(userId) : { op: "remove", path: `members[value eq "${userId}"]` };
    expectStatus(await w.scim("PATCH", `/Groups/${w.groupIds.get(this.group)!}`, patch(op)), [204], this.describe());
    const groups = m.users.get(this.slot)!.groups;
    if (this.member) groups.add(this.group);
    else groups.delete(this.group);
    await w.settle();
  }
}

class Restart extends Step {
  constructor(private readonly rules: RuleSet) {
    super();
  }
  protected describe(): string {
    return `restart the bridge on the same database (rules: ${describeRules(this.rules)})`;
  }
  protected async act(m: ProvisioningModel, w: ProvisioningWorld): Promise<void> {
    await w.restart(this.rules);
    m.rules = this.rules;
    await w.settle();
  }
}

/** A HaloPSA admin edits the agent the bridge linked to a user (else one with the user's address). */
class EditOutside extends Step {
  constructor(
    private readonly slot: Slot,
    private readonly edit: "disabled" | "renamed" | "deleted",
  ) {
    super();
  }
  override check(m: Readonly<ProvisioningModel>): boolean {
    return m.users.has(this.slot);
  }
  protected describe(): string {
    return `in HaloPSA, an admin ${this.edit === "disabled" ? "disables" : this.edit === "renamed" ? "renames" : "deletes"} ${this.slot}'s agent`;
  }
  protected async act(m: ProvisioningModel, w: ProvisioningWorld): Promise<void> {
    const key = m.personKey(m.users.get(this.slot)!);
    const agent = w.linkedAgent(w.scimIds.get(this.slot)!) ?? w.people().find((a) => foldEmail(a.email) === key);
    if (!agent) {
      this.tell("no agent to edit");
      return;
    }
    this.tell(`agent ${agent.id}`);
    w.outsideEdits.set(agent.id, this.edit);
    if (this.edit === "deleted") w.sim.state.agents.delete(agent.id);
    else if (this.edit === "disabled") agent.isdisabled = true;
    else agent.name = `Renamed By Hand ${agent.id}`;
  }
}

type Fault =
  | { readonly kind: "errors"; readonly count: number }
  | { readonly kind: "rateLimit"; readonly count: number }
  | { readonly kind: "lookupTimeout" }
  | { readonly kind: "createTimeout"; readonly landing: "at once" | "late" };

/** Arms a HaloPSA fault; the next steps' HaloPSA calls meet it. */
class ArmFault extends Step {
  constructor(private readonly fault: Fault) {
    super();
  }
  protected describe(): string {
    const f = this.fault;
    switch (f.kind) {
      case "errors":
        return `HaloPSA answers 503 to the next ${f.count} request(s)`;
      case "rateLimit":
        return `HaloPSA answers 429 to the next ${f.count} request(s)`;
      case "lookupTimeout":
        return "the next GET /api/Agent times out";
      case "createTimeout":
        return f.landing === "late" ? `the next POST /api/Agent times out and lands ${LAND_AFTER_MS} ms later` : "the next POST /api/Agent times out but lands at once";
    }
  }
  protected async act(_m: ProvisioningModel, w: ProvisioningWorld): Promise<void> {
    const f = this.fault;
    const faults = w.sim.faults;
    const create = { method: "POST", path: "/api/Agent" };
    if (f.kind === "errors") faults.failNext(f.count, { status: 503 });
    else if (f.kind === "rateLimit") faults.rateLimitNext(f.count);
    else if (f.kind === "lookupTimeout") faults.hangNext(1, { match: { method: "GET", path: "/api/Agent" } });
    else faults.hangNext(1, { commit: true, match: create, ...(f.landing === "late" ? { landAfterMs: LAND_AFTER_MS } : {}) });
  }
}

const slot = fc.constantFrom(...SLOTS);
const group = fc.constantFrom(...GROUPS);
/** Two spellings of one person: userName and email usually agree, sometimes only after folding. */
const address = fc
  .record({ person: fc.constantFrom(...PEOPLE), userName: fc.constantFrom(...SPELLINGS), email: fc.constantFrom(...SPELLINGS), same: fc.boolean() })
  .map((a) => ({ userName: spell(a.person, a.userName), email: spell(a.person, a.same ? a.userName : a.email) }));

/**
 * A story: the steps in order. Generated as a plain array (fc.commands keeps stories short, and
 * steps whose precondition fails are skipped anyway); printed as the steps that ran last time.
 */
export class Story implements Iterable<Command> {
  /**
   * The lines of the steps that ran in this story's last replay. Kept here, not on the steps:
   * shrinking shares step objects between candidate stories, and the one printed is this one.
   */
  private told: string[] = [];
  constructor(private readonly steps: readonly Step[]) {}
  [Symbol.iterator](): Iterator<Command> {
    this.told = [];
    const told = this.told;
    const commands = this.steps.map(
      (step): Command => ({
        check: (m) => step.check(m),
        run: async (m, w) => {
          try {
            await step.run(m, w);
          } finally {
            told.push(step.toString());
          }
        },
        toString: () => step.toString(),
      }),
    );
    return commands[Symbol.iterator]();
  }
  toString(): string {
    return this.told.join("") || " (no step ran)";
  }
}

export function storyArbitrary(minSteps: number, maxSteps: number): fc.Arbitrary<Story> {
  return fc.array(fc.oneof(...stepArbitraries()), { minLength: minSteps, maxLength: maxSteps }).map((steps) => new Story(steps));
}

/** Every kind of step, weighted (by repetition) towards what moves people in and out of HaloPSA. */
function stepArbitraries(): fc.Arbitrary<Step>[] {
  const groups = fc.subarray([...GROUPS]);
  const create = fc.tuple(slot, address, groups).map(([s, a, g]) => new CreateUser(s, a.userName, a.email, g));
  const join = fc.tuple(slot, group).map(([s, g]) => new SetMembership(s, g, true));
  const leave = fc.tuple(slot, group).map(([s, g]) => new SetMembership(s, g, false));
  return [
    create,
    create,
    create,
    join,
    join,
    leave,
    slot.map((s) => new DeleteUser(s)),
    slot.map((s) => new DeleteUser(s)),
    fc.tuple(slot, address).map(([s, a]) => new ChangeAddress(s, a.userName, a.email)),
    fc.tuple(slot, address).map(([s, a]) => new ChangeAddress(s, a.userName, a.email)),
    fc.tuple(slot, fc.boolean()).map(([s, active]) => new SetActive(s, active)),
    fc.constantFrom(...(Object.keys(RULE_SETS) as RuleSet[])).map((r) => new Restart(r)),
    fc.tuple(slot, fc.constantFrom("disabled" as const, "renamed" as const, "deleted" as const)).map(([s, e]) => new EditOutside(s, e)),
    fc.oneof(
      fc.integer({ min: 1, max: 3 }).map((count) => new ArmFault({ kind: "errors", count })),
      fc.integer({ min: 1, max: 3 }).map((count) => new ArmFault({ kind: "rateLimit", count })),
      fc.constant({ kind: "lookupTimeout" as const }).map((f) => new ArmFault(f)),
      fc.constantFrom("at once" as const, "late" as const).map((landing) => new ArmFault({ kind: "createTimeout", landing })),
    ),
    fc.constant({ kind: "createTimeout" as const, landing: "late" as const }).map((f) => new ArmFault(f)),
  ];
}
