/**
 * A reason the bridge cannot start that the operator can fix: one line saying what is wrong and
 * what to do, printed without a stack trace (src/main.ts), and a non-zero exit code.
 */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** The words for a failed `listen` (Node.js docs, "Common system errors"). */
export function listenFailure(e: unknown, host: string, port: number): StartupError | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  const where = `${host}:${port}`;
  if (code === "EADDRINUSE") return new StartupError(`port ${port} is already in use on ${host} (another scim-bridge or another program listens on ${where}): stop it, or choose another port with PORT`);
  if (code === "EACCES") return new StartupError(`not allowed to listen on ${where} (ports below 1024 need privileges): choose a port of 1024 or above with PORT`);
  if (code === "EADDRNOTAVAIL") return new StartupError(`cannot listen on ${where}: ${host} is not an address of this machine; set HOST to one of its addresses, or 0.0.0.0 for all`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new StartupError(`cannot listen on ${where}: the host name ${host} was not found; set HOST to an address of this machine`);
  return undefined;
}

/** The words for a database file that cannot be opened or migrated. */
export function databaseOpenFailure(e: unknown, file: string): StartupError | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !code.startsWith("SQLITE_")) return undefined;
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new StartupError(`database ${file} is locked by another process (another scim-bridge, or a tool holding a write lock): stop it, or set SCIM_BRIDGE_DB to another file`);
  }
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_PERM")) {
    return new StartupError(`cannot open database ${file} for writing (${code}): check that its directory exists and that the bridge's user may write the file and the directory`);
  }
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
    return new StartupError(`database ${file} is not a readable scim-bridge database (${code}): restore a backup (docs/operations.md) or point SCIM_BRIDGE_DB at the right file`);
  }
  return new StartupError(`cannot open database ${file}: ${e instanceof Error ? e.message : code} (${code})`);
}
