/**
 * The HaloPSA side of the shared retrying transport (../http/transport.ts): HaloPSA's error-body
 * layouts, its retryable statuses, and scrubbing of the client secret and access tokens. Knows
 * nothing about agents or tickets.
 */
import { describeErrorBody, redactSecrets } from "../http/error-body.js";
import { RetryingTransport, type Outgoing as HttpOutgoing, type TransportOptions } from "../http/transport.js";

export type { Answer } from "../http/transport.js";

export interface Outgoing extends HttpOutgoing {
  readonly method: "GET" | "POST";
}

export class Transport extends RetryingTransport<Outgoing> {
  constructor(opts: TransportOptions & { readonly secrets: () => Iterable<string> }) {
    super(opts, {
      name: "halopsa",
      label: "HaloPSA",
      describeErrorBody,
      // 408 and 429 are "try later"; a 5xx may be a passing fault.
      isRetryableStatus: (status) => status === 429 || status === 408 || status >= 500,
      scrub: (text) => redactSecrets(text, opts.secrets()),
    });
  }
}
