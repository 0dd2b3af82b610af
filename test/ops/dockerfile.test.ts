/**
 * The container files, checked as far as a machine without Docker allows: the Dockerfile passes
 * the validator of the VS Code Docker language server (dockerfile-utils) with nothing reported,
 * every file it copies from the build context exists and is not excluded by .dockerignore, the
 * image runs as a non-root user with an exec-form entry point (so SIGTERM reaches node, not a
 * shell), and compose.yaml agrees with the image on port, volume, health check and stop timing.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Copy, DockerfileParser, Env, JSONInstruction, type Dockerfile, type Instruction } from "dockerfile-ast";
import { validate, ValidationSeverity } from "dockerfile-utils";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
const dockerfileText = read("Dockerfile");
const dockerfile: Dockerfile = DockerfileParser.parse(dockerfileText);
const instructions = (keyword: string): Instruction[] => dockerfile.getInstructions().filter((i) => i.getKeyword() === keyword);
const args = (i: Instruction): string[] => i.getArguments().map((a) => a.getValue());
/** The instructions of the last stage, the image that ships. */
const runtime = (keyword: string): Instruction[] => {
  const lastFrom = Math.max(...instructions("FROM").map((f) => f.getRange().start.line));
  return instructions(keyword).filter((i) => i.getRange().start.line > lastFrom);
};

/**
 * .dockerignore as Docker reads it: patterns relative to the context root, `*` and `?` within one
 * path segment, `**` across segments, `!` re-includes, the last matching line wins, and a path is
 * excluded with any excluded parent directory.
 */
function dockerignored(path: string): boolean {
  const rules = read(".dockerignore")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const include = l.startsWith("!");
      const pattern = (include ? l.slice(1) : l).replace(/^\/+/, "").replace(/\/+$/, "");
      const source = pattern
        .split(/(\*\*\/?|\*|\?)/)
        .map((part) => (part === "**/" || part === "**" ? "(?:.*/)?" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("");
      return { include, regex: new RegExp(`^${source}$`) };
    });
  const segments = path.split("/");
  return segments.some((_s, n) => {
    const prefix = segments.slice(0, n + 1).join("/");
    let excluded = false;
    for (const r of rules) if (r.regex.test(prefix)) excluded = !r.include;
    return excluded;
  });
}

/** COPY sources taken from the build context (not from another stage). */
function contextSources(): string[] {
  return instructions("COPY")
    .filter((c) => c instanceof Copy && !c.getFlags().some((f) => f.getName() === "from"))
    .flatMap((c) => args(c).slice(0, -1));
}

describe("Dockerfile", () => {
  it("passes the Dockerfile validator with nothing reported, warnings included", () => {
    const everything = {
      deprecatedMaintainer: ValidationSeverity.ERROR,
      directiveCasing: ValidationSeverity.ERROR,
      emptyContinuationLine: ValidationSeverity.ERROR,
      instructionCasing: ValidationSeverity.ERROR,
      instructionCmdMultiple: ValidationSeverity.ERROR,
      instructionEntrypointMultiple: ValidationSeverity.ERROR,
      instructionHealthcheckMultiple: ValidationSeverity.ERROR,
      instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
      instructionWorkdirRelative: ValidationSeverity.ERROR,
    };
    const problems = validate(dockerfileText, everything).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it("is checked by a validator that does report problems", () => {
    // The same validator on a broken file, so the test above cannot pass by the validator saying nothing.
    const broken = "FROM node:20-bookworm-slim\nworkdir app\nEXPOSE 80800\nHEALTHCHECK --interval=1 CMD true\n";
    expect(validate(broken, { instructionCasing: ValidationSeverity.ERROR, instructionWorkdirRelative: ValidationSeverity.ERROR }).length).toBeGreaterThanOrEqual(3);
  });

  it("copies only files that exist and that .dockerignore lets into the build context", () => {
    const sources = contextSources();
    expect(sources).toEqual(expect.arrayContaining(["package.json", "package-lock.json", "src", "schemas"]));
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
      expect(dockerignored(source), `${source} is not in .dockerignore`).toBe(false);
    }
    // What `npm run build` compiles (tsconfig.build.json) must be in the build stage.
    const build = JSON.parse(read("tsconfig.build.json")) as { include: string[] };
    for (const dir of build.include) expect(sources, `the build stage copies ${dir}`).toContain(dir);
  });

  it("keeps secrets, databases and local builds out of the build context", () => {
    for (const path of ["scim-bridge.env", ".env", "bridge.db", "bridge.db-wal", "data/scim-bridge.db", "node_modules/x", "dist/src/main.js", ".git/HEAD"]) {
      expect(dockerignored(path), path).toBe(true);
    }
    expect(dockerignored("scim-bridge.env.example")).toBe(false);
    expect(dockerignored("src/main.ts")).toBe(false);
  });

  it("pins its base images, runs as a non-root user, and starts node directly so SIGTERM reaches it", () => {
    for (const from of instructions("FROM")) expect(args(from)[0], "a pinned tag, not latest").toMatch(/^[\w./-]+:(?!latest\b)[\w.-]+$/);
    const users = runtime("USER").map((u) => args(u)[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const [entrypoint, ...more] = runtime("ENTRYPOINT");
    expect(more).toEqual([]);
    expect(entrypoint).toBeInstanceOf(JSONInstruction);
    expect((entrypoint as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue())).toEqual(["node", "dist/src/main.js"]);
    expect(runtime("HEALTHCHECK")).toHaveLength(1);
  });
});

describe("compose.yaml", () => {
  const compose = parseYaml(read("compose.yaml")) as { services: Record<string, any>; volumes: Record<string, unknown> };
  const service = compose.services["scim-bridge"];
  const exposed = runtime("EXPOSE").flatMap(args);
  const imageEnv = new Map(
    runtime("ENV")
      .filter((e): e is Env => e instanceof Env)
      .flatMap((e) => e.getProperties().map((p) => [p.getName(), p.getValue()] as const)),
  );

  it("publishes the port the image listens on, to loopback only (TLS ends at the reverse proxy)", () => {
    expect(exposed).toEqual([imageEnv.get("PORT")]);
    expect(service.ports).toEqual([`127.0.0.1:${exposed[0]}:${exposed[0]}`]);
  });

  it("keeps the database on a named volume at the image's volume and database path", () => {
    const volume = runtime("VOLUME").flatMap((v) => (v instanceof JSONInstruction ? v.getJSONStrings().map((s) => s.getJSONValue()) : args(v)));
    expect(volume).toEqual(["/data"]);
    expect(service.volumes).toEqual(["scim-bridge-data:/data"]);
    expect(Object.keys(compose.volumes)).toEqual(["scim-bridge-data"]);
    expect(imageEnv.get("SCIM_BRIDGE_DB")).toMatch(/^\/data\//);
  });

  it("checks readiness on the image's port, and runs read-only with a writable /tmp", () => {
    const test = (service.healthcheck.test as string[]).join(" ");
    expect(test).toContain(`http://127.0.0.1:${exposed[0]}/readyz`);
    expect(service.read_only).toBe(true);
    expect(service.tmpfs).toEqual(["/tmp"]);
    expect(service.restart).toBe("unless-stopped");
  });

  it("gives Docker's SIGKILL more time than the bridge's own shutdown timeout", () => {
    const timeout = Number(service.environment.SCIM_BRIDGE_SHUTDOWN_TIMEOUT_SECONDS);
    const grace = Number(/^(\d+)s$/.exec(service.stop_grace_period)?.[1]);
    // The bridge's own last-resort exit comes 1 s after its timeout; leave room beyond that.
    expect(grace).toBeGreaterThanOrEqual(timeout + 2);
    expect(loadConfig({ SCIM_BRIDGE_SHUTDOWN_TIMEOUT_SECONDS: String(timeout) }).shutdownTimeoutSeconds).toBe(timeout);
  });

  it("reads an env file whose example is a valid configuration", () => {
    expect(service.env_file).toBe("scim-bridge.env");
    const example = Object.fromEntries(
      read("scim-bridge.env.example")
        .split("\n")
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(Object.keys(example)).toContain("SCIM_BRIDGE_PUBLIC_URL");
    expect(() => loadConfig(example)).not.toThrow();
  });
});
