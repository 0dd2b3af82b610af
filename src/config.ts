/**
 * Configuration: an optional file (SCIM_BRIDGE_CONFIG, YAML or JSON) overlaid by environment
 * variables, validated once by zod at start. This is the only module that reads process.env.
 * A bad value stops start-up with a message naming the key as the user wrote it.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { checkShared, checkTicketTargets, respellApps } from "./apps/app-types.js";
import { allowedKeysAt, describeIssue, unknownKeyWords } from "./config-issues.js";
import { LOG_LEVELS } from "./log.js";
import { appSchema, checkRules, defaultApps, defaultRules, provisioningSchema, ruleSchema } from "./provisioning/config-schema.js";

const configSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    host: z.string().min(1).default("0.0.0.0"),
    database: z.string().min(1).default("./data/scim-bridge.db"),
    /** Public base URL (e.g. https://bridge.example.com) used in the banner and meta.location. */
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .transform((u) => u.replace(/\/+$/, ""))
      .optional(),
    scimToken: z.string().min(20, "must be at least 20 characters").optional(),
    adminToken: z.string().min(20, "must be at least 20 characters").optional(),
    logLevel: z.enum(LOG_LEVELS).default("info"),
    /** express "trust proxy" setting: hops or subnet list, when running behind a reverse proxy. */
    trustProxy: z.union([z.boolean(), z.number().int().min(0), z.string().min(1)]).default(false),
    /** Largest accepted request body (bytes). Okta and Entra send a few KiB; 1 MiB leaves room for big groups. */
    maxBodyBytes: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /**
     * Largest list page (RFC 7644 §3.4.2.4 allows fewer resources than asked): a page whose resources
     * would pass this many bytes of JSON stops early. A single resource larger than this is still served.
     */
    maxResponseBytes: z.coerce.number().int().min(1024).max(512 * 1024 * 1024).default(8 * 1024 * 1024),
    /**
     * Inbound rate limits (src/http/rate-limit.ts), requests per second and burst; 0 turns one off.
     * Sized never to refuse a real IdP nor an admin's conformance run (docs/operations.md shows the
     * arithmetic): Entra sends about 25 requests/s per provisioning job, Okta at most ~200/s (10
     * requests in flight over a WAN round trip), and a conformance tool sends a few hundred requests
     * back to back, which the burst takes whole. Per address is twice per token, because several
     * tokens (an IdP, admins, reviewers) can share one address behind a proxy.
     */
    rateLimit: z
      .object({
        perToken: z.coerce.number().min(0).default(200),
        perTokenBurst: z.coerce.number().int().min(1).default(2000),
        perAddress: z.coerce.number().min(0).default(400),
        perAddressBurst: z.coerce.number().int().min(1).default(4000),
      })
      .strict()
      .default({ perToken: 200, perTokenBurst: 2000, perAddress: 400, perAddressBurst: 4000 }),
    /** Okta and Entra give up on a request after 60 s; never hold one longer than that. */
    requestTimeoutSeconds: z.coerce.number().positive().max(3600).default(60),
    /** Time allowed for a client to send all request headers (slow-header attacks). */
    headersTimeoutSeconds: z.coerce.number().positive().max(3600).default(30),
    /**
     * How long an idle keep-alive connection stays open. Longer than the 60 s idle timeout of common
     * reverse proxies and load balancers, so the proxy always closes first and never sends a request
     * on a connection the bridge is closing (which the proxy would answer with a 502).
     */
    keepAliveTimeoutSeconds: z.coerce.number().min(0).max(3600).default(65),
    /**
     * On SIGTERM or SIGINT: how long running requests and jobs may take to finish before their
     * connections are cut and their job leases given back. Under Docker's default 10 s stop grace
     * period, which ends in SIGKILL; raise the two together (compose.yaml: stop_grace_period).
     */
    shutdownTimeoutSeconds: z.coerce.number().min(0).max(3600).default(8),
    /** Target apps; without this key the embedded default (HaloPSA with admin and agent roles) applies. */
    apps: z.array(appSchema).optional(),
    /** Group → app + role rules; defaults only apply together with the default apps. */
    rules: z.array(ruleSchema).optional(),
    provisioning: provisioningSchema.default(provisioningSchema.parse({})),
    /** The HaloPSA instance. Without a url the bridge starts its built-in simulator on loopback. */
    /** Outbound webhook (Slack or Teams incoming webhook, or any JSON receiver) for new and overdue tasks. */
    notifications: z
      .object({
        webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
        /** Whose markup the message text is escaped for; by default Slack for hooks.slack.com, Teams (the stricter) otherwise. */
        webhookFormat: z.enum(["slack", "teams"]).optional(),
        overdueCheckSeconds: z.number().positive().default(60),
      })
      .strict()
      .default({ overdueCheckSeconds: 60 }),
    halopsa: z
      .object({
        url: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, "")).optional(),
        /** Hosted Halo's separate auth server; self-hosted instances use {url}/auth. */
        authUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, "")).optional(),
        tenant: z.string().min(1).optional(),
        clientId: z.string().min(1).optional(),
        clientSecret: z.string().min(1).optional(),
        scope: z.string().min(1).default("all"),
        /** HaloPSA licence type numbers by the names rules use (HaloPSA does not publish its numbering). */
        licenceTypes: z.record(z.string(), z.number().int()).default({}),
        /** The tenant's limit (hosted Halo: 300 requests per rolling 5 minutes); null turns the client-side limit off. */
        rateLimit: z
          .object({ requests: z.number().int().positive(), windowSeconds: z.number().positive() })
          .strict()
          .nullable()
          .default({ requests: 300, windowSeconds: 300 }),
        /**
         * The share of `rateLimit` the bridge may spend; the rest is left to the tenant's other
         * integrations (RMM, billing, email), which share the same budget (docs/operations.md).
         */
        rateBudgetShare: z.number().gt(0).max(1).default(0.5),
        /** Agents per `POST /api/Agent` array in a pass over many users. */
        batchSize: z.number().int().min(1).max(500).default(50),
        timeoutSeconds: z.number().positive().default(30),
        /**
         * A create that got no answer may still land: for this long a retry that finds no agent
         * waits instead of creating a second one (docs/provisioning.md).
         */
        createSettleSeconds: z.number().min(0).default(120),
        /** How often the state of task tickets is read back (docs/manual-tasks.md, "Tasks as HaloPSA tickets"). */
        ticketReadSeconds: z.number().positive().default(120),
      })
      .strict()
      .default({ scope: "all", licenceTypes: {}, rateLimit: { requests: 300, windowSeconds: 300 }, rateBudgetShare: 0.5, batchSize: 50, timeoutSeconds: 30, createSettleSeconds: 120, ticketReadSeconds: 120 }),
    /** The Huntress API (apps of type huntress): the memberships API. */
    huntress: z
      .object({
        url: z
          .url({ protocol: /^https?$/ })
          .default("https://api.huntress.io")
          .transform((u) => u.replace(/\/+$/, "")),
        /** API key and secret (Huntress: account menu › API Credentials); sent as HTTP Basic, never logged. */
        apiKey: z.string().min(1).optional(),
        apiSecret: z.string().min(1).optional(),
        /** A reseller key acting on one managed account: its id (calls go to /v1/accounts/{id}/memberships). */
        accountId: z.coerce.number().int().positive().optional(),
        /** Client-side budget under Huntress's 60 requests per minute (shared by every tool on the account); null turns it off. */
        rateLimit: z
          .object({ requests: z.number().int().positive(), windowSeconds: z.number().positive() })
          .strict()
          .nullable()
          .default({ requests: 54, windowSeconds: 60 }),
        timeoutSeconds: z.number().positive().default(30),
        /** Retries of a call that failed with 429, 5xx, a timeout or a network error, before the work falls back to a manual task. */
        maxRetries: z.number().int().min(0).max(10).default(4),
      })
      .strict()
      .default({ url: "https://api.huntress.io", rateLimit: { requests: 54, windowSeconds: 60 }, timeoutSeconds: 30, maxRetries: 4 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    checkRules(c.apps ?? defaultApps, c.rules ?? (c.apps ? [] : defaultRules), ctx);
    if (c.halopsa.url !== undefined && (c.halopsa.clientId === undefined || c.halopsa.clientSecret === undefined)) {
      ctx.addIssue({ code: "custom", path: ["halopsa", "clientId"], message: "HALOPSA_URL needs HALOPSA_CLIENT_ID and HALOPSA_CLIENT_SECRET" });
    }
    if (c.headersTimeoutSeconds > c.requestTimeoutSeconds) {
      ctx.addIssue({ code: "custom", path: ["headersTimeoutSeconds"], message: "must not be longer than requestTimeoutSeconds" });
    }
    for (const issue of checkTicketTargets(c.apps ?? defaultApps)) ctx.addIssue({ code: "custom", path: [...issue.path], message: issue.message });
    for (const issue of checkShared(c.apps ?? [], c)) ctx.addIssue({ code: "custom", path: [...issue.path], message: issue.message });
  });

export type Config = z.infer<typeof configSchema> & {
  /** Deprecated spellings the file used, each saying what to write instead (start-up banner and log). */
  readonly deprecations: readonly string[];
};

/** JSON Schema of the config file (schemas/config.schema.json), for editors and validation tools. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input" }) as Record<string, unknown>;
}

/** Environment variable → config key (a dotted key names a nested one). */
const ENV_KEYS: Record<string, string> = {
  PORT: "port",
  HOST: "host",
  SCIM_BRIDGE_DB: "database",
  SCIM_BRIDGE_PUBLIC_URL: "publicUrl",
  SCIM_BRIDGE_SCIM_TOKEN: "scimToken",
  SCIM_BRIDGE_ADMIN_TOKEN: "adminToken",
  LOG_LEVEL: "logLevel",
  SCIM_BRIDGE_TRUST_PROXY: "trustProxy",
  SCIM_BRIDGE_MAX_BODY_BYTES: "maxBodyBytes",
  SCIM_BRIDGE_MAX_RESPONSE_BYTES: "maxResponseBytes",
  SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN: "rateLimit.perToken",
  SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN_BURST: "rateLimit.perTokenBurst",
  SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS: "rateLimit.perAddress",
  SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS_BURST: "rateLimit.perAddressBurst",
  SCIM_BRIDGE_REQUEST_TIMEOUT_SECONDS: "requestTimeoutSeconds",
  SCIM_BRIDGE_HEADERS_TIMEOUT_SECONDS: "headersTimeoutSeconds",
  SCIM_BRIDGE_KEEP_ALIVE_TIMEOUT_SECONDS: "keepAliveTimeoutSeconds",
  SCIM_BRIDGE_SHUTDOWN_TIMEOUT_SECONDS: "shutdownTimeoutSeconds",
  HALOPSA_URL: "halopsa.url",
  HALOPSA_AUTH_URL: "halopsa.authUrl",
  HALOPSA_TENANT: "halopsa.tenant",
  HALOPSA_CLIENT_ID: "halopsa.clientId",
  HALOPSA_CLIENT_SECRET: "halopsa.clientSecret",
  SCIM_BRIDGE_WEBHOOK_URL: "notifications.webhookUrl",
  SCIM_BRIDGE_WEBHOOK_FORMAT: "notifications.webhookFormat",
  HUNTRESS_URL: "huntress.url",
  HUNTRESS_API_KEY: "huntress.apiKey",
  HUNTRESS_API_SECRET: "huntress.apiSecret",
  HUNTRESS_ACCOUNT_ID: "huntress.accountId",
};

/** The apps and rules in force: the configured ones, else the embedded default. */
export function appsAndRules(config: Config): { apps: NonNullable<Config["apps"]>; rules: NonNullable<Config["rules"]> } {
  return { apps: config.apps ?? defaultApps, rules: config.rules ?? (config.apps ? [] : defaultRules) };
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function parseTrustProxy(raw: string): boolean | number | string {
  if (raw === "true") return true;
  if (raw === "false") return false;
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e: unknown) {
    const code = (e as { code?: unknown } | null)?.code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied (make it readable by the user the bridge runs as)" : code === "EISDIR" ? "it is a directory" : e instanceof Error ? e.message : String(e);
    throw new ConfigError(`SCIM_BRIDGE_CONFIG: cannot read ${file}: ${why}`);
  }
  let data: unknown;
  try {
    data = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e: unknown) {
    throw new ConfigError(`SCIM_BRIDGE_CONFIG: ${file} is not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) throw new ConfigError(`SCIM_BRIDGE_CONFIG: ${file} must hold a mapping of keys`);
  return data as Record<string, unknown>;
}

/**
 * Loads the configuration from `env` (process.env in production, a plain object in tests).
 * Empty environment variables count as unset.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const file = env["SCIM_BRIDGE_CONFIG"];
  const raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  const fromEnv = new Map<string, string>();
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    const [head, tail] = key.split(".") as [string, string | undefined];
    if (tail === undefined) {
      raw[head] = key === "trustProxy" ? parseTrustProxy(value) : value;
    } else {
      const nested = raw[head];
      raw[head] = { ...(typeof nested === "object" && nested !== null ? nested : {}), [tail]: value };
    }
    fromEnv.set(key, name);
  }
  // Older spellings of an app entry are rewritten before validation, so errors and the parsed app
  // read as today's spelling; the app keeps its name, so its instance and links do not move.
  const respelt = respellApps(Array.isArray(raw["apps"]) ? raw["apps"] : []);
  if (respelt.warnings.length > 0) raw["apps"] = respelt.entries;
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const lines = parsed.error.issues.flatMap((issue) => {
      const keys = issue.code === "unrecognized_keys" ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
      return keys.map((path) => {
        const dotted = path.map(String).join(".");
        // rules[1].role, halopsa.url: as the key is written in the file
        const written = path.map((p, n) => (typeof p === "number" ? `[${p}]` : `${n > 0 ? "." : ""}${String(p)}`)).join("") || "config";
        const name = fromEnv.get(dotted) ?? (file ? `${written} (in ${file})` : written);
        if (issue.code === "unrecognized_keys") return `  ${name}: ${unknownKeyWords(String(path.at(-1)), allowedKeysAt(configSchema, issue.path, raw))}`;
        return `  ${name}: ${describeIssue(issue, raw)}`;
      });
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  // Located like a config error: apps[1] (in /etc/scim-bridge.yaml).
  const deprecations = respelt.warnings.map(({ index, warning }) => `apps[${index}]${file ? ` (in ${file})` : ""}: ${warning}`);
  return { ...parsed.data, deprecations };
}
