/**
 * The Huntress side of the shared retrying transport (../http/transport.ts): the retryable
 * statuses of the reference, and scrubbing of the API key, the secret and their Basic token. Error
 * bodies are read as the HaloPSA client reads them (a Grape `{"error": ...}` is one of those layouts).
 */
import { describeErrorBody } from "../http/error-body.js";
import { RetryingTransport, type Answer, type Outgoing as HttpOutgoing, type TransportOptions } from "../http/transport.js";

export type { Answer } from "../http/transport.js";

export interface Outgoing extends HttpOutgoing {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Safe to send twice (see client.ts for each call's reasoning). */
  readonly idempotent: boolean;
}

/** Reference, HTTP Response Codes: 429 (rate limit) and 500 ("You could retry the request") are worth another try; so are 408 and other 5xx. */
const isRetryableStatus = (status: number): boolean => status === 429 || status === 408 || status >= 500;

export class HuntressTransport extends RetryingTransport<Outgoing> {
  /** `scrub`: the bridge's one secret scrubber, which knows the API key, the secret and their Basic token. */
  constructor(opts: TransportOptions & { readonly scrub: (text: string) => string }) {
    super(opts, {
      name: "huntress",
      label: "Huntress",
      describeErrorBody,
      isRetryableStatus,
      scrub: opts.scrub,
    });
  }

  /** Sends the one request `o` (nothing in it changes between attempts); see RetryingTransport.send. */
  sendOnce<T>(o: Outgoing, accept: (a: Answer, landedBefore: boolean) => { value: T } | null): Promise<T> {
    return this.send(
      () => o,
      (_o, a, landedBefore) => accept(a, landedBefore),
    );
  }
}
