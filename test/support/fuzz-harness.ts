/**
 * Sends fuzzed requests to a real bridge and judges each answer twice: its shape (fuzz-oracle.ts)
 * and its effect on the database (fuzz-probe.ts). A refused request or a read must leave every
 * directory table byte-identical; an accepted write must log exactly one audit event and move its
 * resource's version by exactly one (RFC 7644 §3.14), or, for a PATCH that changes nothing, touch
 * nothing at all. Any breach throws with the whole exchange, so fast-check reports and shrinks it.
 */
import { expect } from "vitest";
import { ADMIN_TOKEN, SCIM_TOKEN, type TestBridge } from "./bridge.js";
import { answerProblems } from "./fuzz-oracle.js";
import { DirectoryProbe, type Kind } from "./fuzz-probe.js";
import { exchange } from "./io.js";

/** Fixed so CI is reproducible; FUZZ_SEED and FUZZ_RUNS explore further locally. */
export const FUZZ_SEED = Number(process.env["FUZZ_SEED"] ?? 20260105);

/** Runs of one property: `base` by default, FUZZ_RUNS when set (the same count for every property). */
export function fuzzRuns(base: number): number {
  const env = process.env["FUZZ_RUNS"];
  return env === undefined ? base : Number(env);
}

/** A generous per-test timeout for `runs` runs of requests that each take a few milliseconds. */
export const fuzzTimeout = (runs: number): number => 30_000 + runs * 50;

export interface FuzzRequest {
  readonly method: string;
  /** Below the SCIM base, query string included. */
  readonly path: string;
  /** A string or bytes are sent as they are; anything else as JSON. */
  readonly body?: unknown;
  /** Override the defaults (the SCIM token, application/scim+json); null leaves a header out. */
  readonly headers?: Readonly<Record<string, string | null>>;
}

export interface FuzzAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: any;
}

const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** `/Users/{id}` or `/Groups/{id}` (not `.search`): the one resource a write or GET names. */
function resourceOf(path: string): { kind: Kind; id: string } | undefined {
  const m = /^\/(Users|Groups)\/([^/?]+)(?:\?.*)?$/.exec(path);
  if (!m || m[2] === ".search") return undefined;
  try {
    return { kind: m[1] as Kind, id: decodeURIComponent(m[2]!) };
  } catch {
    return undefined;
  }
}

const isCollection = (path: string): Kind | undefined => /^\/(Users|Groups)(?:\?.*)?$/.exec(path)?.[1] as Kind | undefined;

function isProjecting(body: unknown): boolean {
  return typeof body === "object" && body !== null && ("attributes" in body || "excludedAttributes" in body);
}

function describeExchange(req: FuzzRequest, res: FuzzAnswer | undefined): string {
  const body = req.body === undefined ? "" : typeof req.body === "string" ? req.body : req.body instanceof Uint8Array ? `<${req.body.length} bytes>` : JSON.stringify(req.body);
  return [
    `${req.method} ${req.path.slice(0, 500)}`,
    `headers: ${JSON.stringify(req.headers ?? {}).slice(0, 500)}`,
    `body: ${body.slice(0, 2000)}`,
    res ? `answer: ${res.status} ${res.text.slice(0, 1000)}` : "",
  ].join("\n");
}

export class FuzzHarness {
  readonly probe: DirectoryProbe;
  /** Requests sent, by HTTP status of the answer. */
  readonly statuses = new Map<number, number>();
  private digest: string;

  constructor(private readonly bridge: TestBridge) {
    this.probe = new DirectoryProbe(bridge);
    this.digest = this.probe.digest();
  }

  /**
   * The bridge's provisioning worker and reconciler also write the jobs table; stopping them
   * leaves the request under test as the only writer, so "nothing changed" can be checked exactly.
   */
  static async quiesce(bridge: TestBridge): Promise<void> {
    bridge.running.reconciler.stop();
    await bridge.running.worker.stop(0);
  }

  get sent(): number {
    let n = 0;
    for (const c of this.statuses.values()) n += c;
    return n;
  }

  /** How many answers had a status for which `pick` is true. */
  count(pick: (status: number) => boolean): number {
    let n = 0;
    for (const [s, c] of this.statuses) if (pick(s)) n += c;
    return n;
  }

  /** An existing resource's id chosen by `pick` (any integer), or undefined when there is none. */
  existing(kind: Kind, pick: number): string | undefined {
    const ids = this.probe.ids(kind);
    return ids.length === 0 ? undefined : ids[Math.abs(pick) % ids.length];
  }

  async send(req: FuzzRequest): Promise<FuzzAnswer> {
    const target = resourceOf(req.path);
    const versionBefore = target && this.probe.versionOf(target.kind, target.id);
    const auditBefore = this.probe.auditCount();
    const res = await this.exchange(req);
    const status = res.status;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    const authorization = req.headers?.["Authorization"];
    const problems = answerProblems(
      {
        method: req.method,
        path: req.path,
        secrets: [SCIM_TOKEN, ADMIN_TOKEN, ...(authorization ? [authorization] : [])],
        projectedInBody: isProjecting(req.body),
      },
      res,
    );
    const digestAfter = this.probe.digest();
    const wrote = WRITES.has(req.method) && status >= 200 && status < 300 && (target !== undefined || isCollection(req.path) !== undefined);
    if (!wrote) {
      if (digestAfter !== this.digest) problems.push(`a ${status} answer to ${req.method} changed the directory tables`);
    } else {
      problems.push(...this.writeProblems(req, res, target, versionBefore, auditBefore, digestAfter));
    }
    if (req.method === "GET" && target && status === 200) {
      const v = this.probe.versionOf(target.kind, target.id);
      if (res.headers.get("etag") !== `W/"${v}"`) problems.push(`GET ETag ${res.headers.get("etag")} but the row is at version ${v}`);
    }
    this.digest = digestAfter;
    if (problems.length > 0) throw new Error(`${problems.join("; ")}\n${describeExchange(req, res)}`);
    return res;
  }

  private writeProblems(
    req: FuzzRequest,
    res: FuzzAnswer,
    target: { kind: Kind; id: string } | undefined,
    versionBefore: number | undefined,
    auditBefore: number,
    digestAfter: string,
  ): string[] {
    const events = this.probe.auditCount() - auditBefore;
    const etag = res.headers.get("etag");
    const problems: string[] = [];
    if (req.method === "POST") {
      const kind = isCollection(req.path)!;
      const id = res.body?.id as string | undefined;
      if (res.status !== 201) problems.push(`POST answered ${res.status}, not 201`);
      if (id === undefined || this.probe.versionOf(kind, id) !== 1) problems.push(`created ${String(id)} is not stored at version 1`);
      if (etag !== 'W/"1"') problems.push(`created with ETag ${etag}`);
      if (res.headers.get("location") !== res.body?.meta?.location) problems.push("Location differs from meta.location");
      if (events !== 1) problems.push(`a create logged ${events} audit events`);
      return problems;
    }
    const { kind, id } = target!;
    const after = this.probe.versionOf(kind, id);
    if (req.method === "DELETE") {
      if (res.status !== 204) problems.push(`DELETE answered ${res.status}`);
      if (after !== undefined) problems.push("a deleted resource is still stored");
      if (events !== 1) problems.push(`a delete logged ${events} audit events`);
      return problems;
    }
    const unchanged = req.method === "PATCH" && events === 0;
    if (unchanged) {
      // A PATCH that changes nothing is not a new version and not an event (scim/users.ts).
      if (digestAfter !== this.digest) problems.push("a PATCH that logged no event changed the directory tables");
      if (after !== versionBefore) problems.push(`a PATCH that logged no event moved the version ${versionBefore} → ${after}`);
    } else {
      if (events !== 1) problems.push(`a ${req.method} logged ${events} audit events`);
      if (versionBefore === undefined || after !== versionBefore + 1) problems.push(`a ${req.method} moved the version ${versionBefore} → ${after}`);
    }
    if (etag !== `W/"${after}"`) problems.push(`ETag ${etag} for stored version ${after}`);
    return problems;
  }

  private exchange(req: FuzzRequest): Promise<FuzzAnswer> {
    return exchange(`${this.bridge.baseUrl}${req.path}`, req.method, { Authorization: `Bearer ${SCIM_TOKEN}`, ...req.headers }, req.body, "application/scim+json");
  }

  /** One line for the test log: how many requests were sent and what they were answered. */
  summary(): string {
    const by = [...this.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    return `${this.sent} requests (seed ${FUZZ_SEED}): ${by.join(" ")}`;
  }

  /** End of a run: the database is sound, and nothing was logged as an internal error. */
  expectSound(): void {
    expect(this.probe.integrityProblems()).toEqual([]);
    const errors = this.bridge.logLines.filter((l) => (JSON.parse(l) as { level?: string }).level === "error");
    expect(errors).toEqual([]);
  }

  close(): void {
    this.probe.close();
  }
}
