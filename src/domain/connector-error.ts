/**
 * The one error every connector and API client throws, whatever the app. The worker reads only
 * this: whether a retry can help, whether the remote effect of a failed write is unknown (it may
 * have landed after the client gave up), and when to try again. Its text never holds a secret:
 * clients scrub every detail before they build one.
 */

export type ConnectorErrorKind =
  /** The app answered with an error status. */
  | "http"
  /** No answer within the client's timeout. */
  | "timeout"
  /** The connection failed or broke. */
  | "network"
  /** The app answered 2xx with something the client cannot read. */
  | "response"
  /** A setting or mapping the app cannot take (a team or role it does not know): fix the config. */
  | "config"
  /** The account the identity map points at no longer exists in the app. */
  | "gone"
  /** The account found belongs to another user of the bridge: a person must decide. */
  | "conflict"
  /** An earlier create got no answer and may still land: wait before creating again. */
  | "unsettled";

export interface ConnectorErrorInit {
  /** The app's name as people know it ("HaloPSA", "Huntress"). */
  readonly app: string;
  readonly kind: ConnectorErrorKind;
  readonly detail: string;
  readonly retryable: boolean;
  /** The HTTP status, or null when no answer came back (or no request was made). */
  readonly status?: number | null;
  /** e.g. "POST /api/Agent" (never the query string); null when no request failed. */
  readonly request?: string | null;
  /** True when the app may have carried a write out although the client saw it fail (timeout, 5xx). */
  readonly effectUnknown?: boolean;
  readonly attempts?: number;
  /** Do not try again before this many ms (a 429's Retry-After, an unsettled create). */
  readonly retryAfterMs?: number | null;
  /** For `conflict`: who holds the account. */
  readonly owner?: { readonly userId: string; readonly externalId: string } | null;
  readonly cause?: unknown;
}

export class ConnectorError extends Error {
  override readonly name = "ConnectorError";
  readonly app: string;
  readonly kind: ConnectorErrorKind;
  readonly detail: string;
  readonly retryable: boolean;
  readonly status: number | null;
  readonly request: string | null;
  readonly effectUnknown: boolean;
  readonly attempts: number;
  readonly retryAfterMs: number | null;
  readonly owner: { readonly userId: string; readonly externalId: string } | null;

  constructor(init: ConnectorErrorInit) {
    super(messageOf(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.app = init.app;
    this.kind = init.kind;
    this.detail = init.detail;
    this.retryable = init.retryable;
    this.status = init.status ?? null;
    this.request = init.request ?? null;
    this.effectUnknown = init.effectUnknown ?? false;
    this.attempts = init.attempts ?? 1;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.owner = init.owner ?? null;
  }

  /** The same failure, saying how many attempts were made. */
  afterAttempts(attempts: number): ConnectorError {
    return attempts === this.attempts ? this : new ConnectorError({ ...this.init(), attempts });
  }

  private init(): ConnectorErrorInit {
    const { app, kind, detail, retryable, status, request, effectUnknown, attempts, retryAfterMs, owner, cause } = this;
    return { app, kind, detail, retryable, status, request, effectUnknown, attempts, retryAfterMs, owner, cause };
  }
}

function messageOf(init: ConnectorErrorInit): string {
  if (!init.request) return init.detail;
  const what = init.status !== null && init.status !== undefined ? `${init.status}` : init.kind;
  const tries = (init.attempts ?? 1) > 1 ? ` after ${init.attempts} attempts` : "";
  return `${init.app} ${init.request} failed (${what})${tries}: ${init.detail}`;
}

export function isConnectorError(e: unknown): e is ConnectorError {
  return e instanceof ConnectorError;
}
