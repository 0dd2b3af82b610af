/**
 * Configuration: an optional file (SCIM_BRIDGE_CONFIG, YAML or JSON) overlaid by environment
 * variables, validated once by zod at start. This is the only module that reads process.env.
 * A bad value stops start-up with a message naming the key as the user wrote it.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const LOG_LEVELS = ["error", "warn", "info", "http", "verbose", "debug", "silly"] as const;

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
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** JSON Schema of the config file (schemas/config.schema.json), for editors and validation tools. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input" }) as Record<string, unknown>;
}

/** Environment variable → config key. */
const ENV_KEYS: Record<string, keyof Config> = {
  PORT: "port",
  HOST: "host",
  SCIM_BRIDGE_DB: "database",
  SCIM_BRIDGE_PUBLIC_URL: "publicUrl",
  SCIM_BRIDGE_SCIM_TOKEN: "scimToken",
  SCIM_BRIDGE_ADMIN_TOKEN: "adminToken",
  LOG_LEVEL: "logLevel",
  SCIM_BRIDGE_TRUST_PROXY: "trustProxy",
  SCIM_BRIDGE_MAX_BODY_BYTES: "maxBodyBytes",
};

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
    throw new ConfigError(`SCIM_BRIDGE_CONFIG: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
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
  const source = new Map<string, string>(Object.keys(raw).map((k) => [k, `${k} (in ${file})`]));
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    raw[key] = key === "trustProxy" ? parseTrustProxy(value) : value;
    source.set(key, name);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path.length > 0 ? String(issue.path[0]) : "";
      const unknown = issue.code === "unrecognized_keys" ? issue.keys.map((k) => source.get(k) ?? k).join(", ") : "";
      const name = unknown || source.get(key) || key || "config";
      return `  ${name}: ${issue.code === "unrecognized_keys" ? "unknown key" : issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}
