import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "scim-bridge-audit-"));

/** Runs .ci/audit.mjs on a saved `npm audit --json` report; returns its exit code and output. */
async function audit(report: unknown, exceptions: unknown[] = [], env: Record<string, string> = {}) {
  const reportFile = join(dir, `report-${Math.random()}.json`);
  const exceptionsFile = join(dir, `exceptions-${Math.random()}.json`);
  writeFileSync(reportFile, JSON.stringify(report));
  writeFileSync(exceptionsFile, JSON.stringify({ exceptions }));
  try {
    const { stdout } = await run("node", [".ci/audit.mjs", "--report", reportFile, "--exceptions", exceptionsFile], { env: { ...process.env, ...env } });
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, out: err.stdout };
  }
}

const advisory = (severity: string) => ({ source: 1, name: "qs", dependency: "qs", title: "Prototype pollution", url: "https://github.com/advisories/GHSA-xxxx", severity, range: "<6.2" });
const reportWith = (severity: string) => ({
  auditReportVersion: 2,
  vulnerabilities: { qs: { name: "qs", severity, isDirect: false, via: [advisory(severity)], effects: ["express"], range: "<6.2", nodes: ["node_modules/qs"], fixAvailable: true } },
  metadata: {},
});

describe("dependency audit (.ci/audit.mjs)", () => {
  it("fails on a high advisory and names it", async () => {
    const r = await audit(reportWith("high"));
    expect(r.code).toBe(1);
    expect(r.out).toContain("qs high Prototype pollution https://github.com/advisories/GHSA-xxxx");
  });

  it("passes on moderate advisories and on a clean report", async () => {
    expect((await audit(reportWith("moderate"))).code).toBe(0);
    expect((await audit({ auditReportVersion: 2, vulnerabilities: {}, metadata: {} })).code).toBe(0);
  });

  it("accepts a high advisory only while its documented exception lasts", async () => {
    const exception = { package: "qs", advisory: "https://github.com/advisories/GHSA-xxxx", reason: "only reached through a dev tool", until: "2999-01-01" };
    const excused = await audit(reportWith("critical"), [exception]);
    expect(excused.code).toBe(0);
    expect(excused.out).toContain("excepted until 2999-01-01");
    const expired = await audit(reportWith("critical"), [{ ...exception, until: "2020-01-01" }]);
    expect(expired.code).toBe(1);
    expect(expired.out).toContain("exception expired on 2020-01-01");
    expect((await audit(reportWith("high"), [{ ...exception, package: "other" }])).code).toBe(1);
  });

  it("says loudly when the advisory service cannot be asked, and fails then only when required", async () => {
    const refused = { message: "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk", statusCode: 405 };
    const r = await audit(refused);
    expect(r.code).toBe(0);
    expect(r.out).toContain("SKIPPED");
    expect((await audit(refused, [], { AUDIT_REQUIRED: "1" })).code).toBe(1);
  });
});
