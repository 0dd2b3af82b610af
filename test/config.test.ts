import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configJsonSchema, loadConfig } from "../src/config.js";

describe("configuration", () => {
  it("starts on embedded defaults with no environment at all", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.database).toBe("./data/scim-bridge.db");
    expect(c.logLevel).toBe("info");
    expect(c.scimToken).toBeUndefined();
  });

  it("reads PORT, SCIM_BRIDGE_DB, the token variables and LOG_LEVEL exactly", () => {
    const c = loadConfig({
      PORT: "9090",
      SCIM_BRIDGE_DB: "/tmp/x.db",
      SCIM_BRIDGE_SCIM_TOKEN: "s".repeat(24),
      SCIM_BRIDGE_ADMIN_TOKEN: "a".repeat(24),
      LOG_LEVEL: "debug",
    });
    expect(c).toMatchObject({ port: 9090, database: "/tmp/x.db", scimToken: "s".repeat(24), adminToken: "a".repeat(24), logLevel: "debug" });
  });

  it("refuses a bad value and names the environment variable", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT/);
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ SCIM_BRIDGE_SCIM_TOKEN: "short" })).toThrow(/SCIM_BRIDGE_SCIM_TOKEN: must be at least 20/);
  });

  it("names the value as written and what is allowed, never zod's view of it after coercion", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow('PORT: "eighty" is not a number');
    expect(() => loadConfig({ PORT: "70000" })).toThrow('PORT: "70000" is out of range: must be at most 65535');
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow('LOG_LEVEL: "loud" is not one of error, warn, info, http, verbose, debug, silly');
    expect(() => loadConfig({ HALOPSA_URL: "halo.example.com", HALOPSA_CLIENT_ID: "i", HALOPSA_CLIENT_SECRET: "s" })).toThrow('HALOPSA_URL: "halo.example.com" is not a URL');
    const file = join(mkdtempSync(join(tmpdir(), "cfg-")), "c.yaml");
    writeFileSync(file, "apps:\n  - { name: a, type: manul }\n  - { name: b, type: manual, template: nonesuch }\ntrustProxy: [1]\nprovisioning: { workerConcurrency: lots }\nhalopsa: { clientSecret: 12345 }\n");
    const message = (() => {
      try {
        loadConfig({ SCIM_BRIDGE_CONFIG: file });
      } catch (e: unknown) {
        return e instanceof Error ? e.message : "";
      }
      return "";
    })();
    expect(message).toContain(`apps[0].type (in ${file}): "manul" is not one of halopsa, huntress, manual`);
    expect(message).toContain(`apps[1].template (in ${file}): "nonesuch" is not one of`);
    expect(message).toContain(`trustProxy (in ${file}): [1] is not true or false or a number or a text`);
    expect(message).toContain(`provisioning.workerConcurrency (in ${file}): "lots" is not a number`);
    expect(message).toContain(`halopsa.clientSecret (in ${file}): the value given is not a text`);
    expect(message).not.toContain("12345");
  });

  it("says why a config file cannot be read", () => {
    expect(() => loadConfig({ SCIM_BRIDGE_CONFIG: "/nonexistent/scim-bridge.yaml" })).toThrow("SCIM_BRIDGE_CONFIG: cannot read /nonexistent/scim-bridge.yaml: no such file");
  });

  it("never echoes a rejected token value in the error", () => {
    const secret = "tiny-secret";
    try {
      loadConfig({ SCIM_BRIDGE_ADMIN_TOKEN: secret });
      expect.unreachable();
    } catch (e: unknown) {
      expect(String(e)).not.toContain(secret);
    }
  });

  it("reads a YAML config file, lets the environment win, and names unknown keys with the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-config-"));
    const file = join(dir, "bridge.yaml");
    writeFileSync(file, "port: 7000\ndatabase: /var/lib/bridge.db\n");
    expect(loadConfig({ SCIM_BRIDGE_CONFIG: file })).toMatchObject({ port: 7000, database: "/var/lib/bridge.db" });
    expect(loadConfig({ SCIM_BRIDGE_CONFIG: file, PORT: "7001" }).port).toBe(7001);
    writeFileSync(file, "prot: 7000\n");
    expect(() => loadConfig({ SCIM_BRIDGE_CONFIG: file })).toThrow(new RegExp(`prot \\(in ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\): unknown key`));
  });

  it("suggests the closest allowed key for an unknown one, at any depth and per app type, or lists the allowed keys", () => {
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-config-"));
    const file = join(dir, "bridge.yaml");
    writeFileSync(
      file,
      ["porrt: 7000", "provisioning: { workerConcurency: 2 }", "halopsa: { urll: https://halo.example.com }", "apps:", "  - { name: hunt, type: manual, template: huntress, slaHourz: 3 }", "zzzz: 1"].join("\n"),
    );
    const message = (() => {
      try {
        loadConfig({ SCIM_BRIDGE_CONFIG: file });
        return "";
      } catch (e: unknown) {
        return (e as Error).message;
      }
    })();
    expect(message).toContain(`porrt (in ${file}): unknown key; did you mean port?`);
    expect(message).toContain(`provisioning.workerConcurency (in ${file}): unknown key; did you mean workerConcurrency?`);
    expect(message).toContain(`halopsa.urll (in ${file}): unknown key; did you mean url?`);
    // The keys of the entry's own app type (a manual app), not of every type.
    expect(message).toContain(`apps[0].slaHourz (in ${file}): unknown key; did you mean slaHours?`);
    expect(message).toMatch(/zzzz \(in .*\): unknown key \(allowed: [a-zA-Z, ]*\bport\b/);
  });

  it("reads a JSON config file and rejects one that is not valid JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-config-"));
    const file = join(dir, "bridge.json");
    writeFileSync(file, JSON.stringify({ logLevel: "warn" }));
    expect(loadConfig({ SCIM_BRIDGE_CONFIG: file }).logLevel).toBe("warn");
    writeFileSync(file, "{ nope");
    expect(() => loadConfig({ SCIM_BRIDGE_CONFIG: file })).toThrow(/SCIM_BRIDGE_CONFIG: .* is not valid JSON/);
  });

  it("ships a config JSON Schema that matches the code", () => {
    const shipped = JSON.parse(readFileSync(new URL("../schemas/config.schema.json", import.meta.url), "utf8")) as unknown;
    expect(shipped).toEqual(configJsonSchema());
  });
});
