#!/usr/bin/env node
// Dependency audit for CI: `npm audit` at high severity, with documented, expiring exceptions
// (.ci/audit-exceptions.json). Kept as plain JavaScript so it runs before anything is built.
//
// When the registry's advisory service cannot be reached (some mirrors answer 405 to its POST),
// the audit cannot say anything: that is reported loudly and, unless AUDIT_REQUIRED=1, does not
// fail the run, because a missing advisory feed is not a finding about our dependencies.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BLOCKING = new Set(["high", "critical"]);

/**
 * Judges an `npm audit --json` report. Returns { status: "pass" | "fail" | "unavailable", lines }.
 * An exception matches an advisory by its URL and the package it is reached through, and counts only
 * until its `until` date, so it has to be looked at again.
 */
export function judge(report, exceptions, today) {
  if (!report || typeof report.vulnerabilities !== "object" || report.vulnerabilities === null) {
    const why = report?.message ?? "npm audit returned no report";
    return { status: "unavailable", lines: [`advisory service unavailable: ${why}`] };
  }
  const live = exceptions.filter((e) => e.until >= today);
  const findings = [];
  for (const vuln of Object.values(report.vulnerabilities)) {
    for (const via of vuln.via) {
      if (typeof via !== "object" || !BLOCKING.has(via.severity)) continue;
      const excused = live.find((e) => e.advisory === via.url && e.package === vuln.name);
      findings.push({ pkg: vuln.name, severity: via.severity, title: via.title, url: via.url, excused });
    }
  }
  const lines = findings.map((f) =>
    f.excused ? `excepted until ${f.excused.until}: ${f.pkg} ${f.severity} ${f.title} ${f.url} (${f.excused.reason})` : `${f.pkg} ${f.severity} ${f.title} ${f.url}`,
  );
  for (const e of exceptions.filter((x) => x.until < today)) lines.push(`exception expired on ${e.until}: ${e.package} ${e.advisory}`);
  return { status: findings.some((f) => !f.excused) ? "fail" : "pass", lines };
}

function main() {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const exceptionsAt = process.argv.indexOf("--exceptions");
  const exceptionsFile = exceptionsAt > 0 ? process.argv[exceptionsAt + 1] : `${here}audit-exceptions.json`;
  const exceptions = JSON.parse(readFileSync(exceptionsFile, "utf8")).exceptions;
  // --report <file> judges a saved `npm audit --json` output instead of running npm (used by the tests).
  const saved = process.argv.indexOf("--report");
  let out;
  if (saved > 0) {
    out = readFileSync(process.argv[saved + 1], "utf8");
  } else {
    try {
      out = execFileSync("npm", ["audit", "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 << 20 });
    } catch (e) {
      out = e.stdout; // npm audit exits non-zero when it finds anything; the JSON is still on stdout
    }
  }
  let report;
  try {
    report = JSON.parse(out);
  } catch {
    report = undefined;
  }
  const { status, lines } = judge(report, exceptions, new Date().toISOString().slice(0, 10));
  for (const line of lines) console.log(`audit: ${line}`);
  if (status === "fail") {
    console.log("audit: FAILED: high or critical advisories without a documented exception (.ci/audit-exceptions.json)");
    process.exit(1);
  }
  if (status === "unavailable") {
    console.log("audit: SKIPPED: the advisory database could not be queried; set AUDIT_REQUIRED=1 to fail instead");
    if (process.env.AUDIT_REQUIRED === "1") process.exit(1);
    return;
  }
  console.log("audit: no high or critical advisories without an exception");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
