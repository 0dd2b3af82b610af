/**
 * Who has called the SCIM API since the bridge started: per token, the time of the last request
 * and the client's User-Agent (Okta and Entra name themselves there), for the status page. In
 * memory: a stored token's last use is also kept in the database, to the minute (auth/tokens.ts).
 */
import { header, type Handler } from "./handler.js";

export interface ScimCaller {
  readonly token: string;
  readonly at: string;
  readonly userAgent: string | null;
}

/** A User-Agent is the client's own text: kept short, as shown. */
const MAX_USER_AGENT = 200;

export class ScimCallers {
  private readonly seen = new Map<string, ScimCaller>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  record(token: string, userAgent: string | undefined): void {
    const ua = userAgent?.trim().slice(0, MAX_USER_AGENT);
    this.seen.set(token, { token, at: this.now().toISOString(), userAgent: ua ? ua : null });
  }

  /** Most recent first. */
  latest(): ScimCaller[] {
    return [...this.seen.values()].sort((a, b) => b.at.localeCompare(a.at));
  }

  /** Runs `authenticate`, then records the caller it let in. */
  recording(authenticate: Handler): Handler {
    return (req, res, next) =>
      authenticate(req, res, (err) => {
        if (err === undefined && req.principal) this.record(req.principal.name, header(req, "user-agent"));
        next(err);
      });
  }
}
