/**
 * The HaloPSA side of the shared retrying transport (../http/transport.ts): HaloPsaError, HaloPSA's
 * error-body layouts, and scrubbing of the client secret and access tokens. Knows nothing about
 * agents or tickets.
 */
import { RetryingTransport, type Outgoing as HttpOutgoing, type TransportOptions } from "../http/transport.js";
import { describeErrorBody, HaloPsaError, isHaloPsaError, redactSecrets } from "./errors.js";

export type { Answer } from "../http/transport.js";

export interface Outgoing extends HttpOutgoing {
  readonly method: "GET" | "POST";
}

export class Transport extends RetryingTransport<HaloPsaError, Outgoing> {
  constructor(opts: TransportOptions & { readonly secrets: () => Iterable<string> }) {
    super(opts, {
      name: "halopsa",
      makeError: (init) => new HaloPsaError(init),
      isError: isHaloPsaError,
      describeErrorBody,
      // 408 and 429 are "try later"; a 5xx may be a passing fault.
      isRetryableStatus: (status) => status === 429 || status === 408 || status >= 500,
      scrub: (text) => redactSecrets(text, opts.secrets()),
    });
  }
}
