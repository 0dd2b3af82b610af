/**
 * The HaloPSA side of the shared retrying transport (../http/transport.ts): HaloPSA's error-body
 * layouts, its retryable statuses, and scrubbing of the client secret and access tokens. Knows
 * nothing about agents or tickets.
 */
import { describeErrorBody } from "../http/error-body.js";
import { RetryingTransport, type Outgoing as HttpOutgoing, type TransportOptions } from "../http/transport.js";

export type { Answer } from "../http/transport.js";

export interface Outgoing extends HttpOutgoing {
  readonly method: "GET" | "POST";
}

export class Transport extends RetryingTransport<Outgoing> {
  /** `scrub`: the bridge's one secret scrubber, which knows the client secret and every access token issued. */
  constructor(opts: TransportOptions & { readonly scrub: (text: string) => string }) {
    super(opts, {
      name: "halopsa",
      label: "HaloPSA",
      describeErrorBody,
      // 408 and 429 are "try later"; a 5xx may be a passing fault.
      isRetryableStatus: (status) => status === 429 || status === 408 || status >= 500,
      scrub: opts.scrub,
    });
  }
}
