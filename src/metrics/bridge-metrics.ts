/**
 * The bridge's Prometheus metrics (prom-client), all named `scim_bridge_*` (docs/operations.md
 * lists them). One registry per running bridge, never prom-client's global one, so two bridges in
 * one process (the tests) never share a series.
 *
 * This class holds what is counted as it happens: HTTP requests (request-log.ts reports them) and
 * calls to the apps' APIs (the retrying transport reports them). What is read from the database
 * at scrape time is registered by ./state.ts.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import type { ExchangeOutcome, TransportObserver } from "../apps/http/observer.js";
import type { RequestObserver } from "../http/request-log.js";

export const METRIC_PREFIX = "scim_bridge_";

/**
 * A SCIM lookup answers in about a millisecond and Okta and Entra give up after 60 s; the buckets
 * span both, finer where SCIM traffic lives.
 */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** HaloPSA and Huntress answer in tens to hundreds of ms; the transport times out at 30 s by default. */
const CONNECTOR_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A wait for the client-side rolling window lasts up to the window itself (HaloPSA: 5 minutes). */
const WAIT_BUCKETS = [0.1, 1, 5, 15, 60, 300];

export class BridgeMetrics implements RequestObserver, TransportObserver {
  readonly registry = new Registry();
  private readonly requests: Histogram<"method" | "route" | "status">;
  private readonly connectorRequests: Counter<"app" | "outcome">;
  private readonly connectorDuration: Histogram<"app">;
  private readonly rateLimitWaits: Histogram<"app">;
  private readonly ticketSyncFailures: Counter;

  constructor() {
    // Process CPU, memory, event-loop lag, GC and handles, under the same prefix.
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    const registers = [this.registry];
    this.requests = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: "HTTP requests by method, route template (`unmatched` when no route took the request) and status",
      labelNames: ["method", "route", "status"],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.connectorRequests = new Counter({
      name: `${METRIC_PREFIX}connector_requests_total`,
      help: "Requests sent to an app's API (every attempt), by outcome: ok, client_error, server_error, rate_limited, timeout, network",
      labelNames: ["app", "outcome"],
      registers,
    });
    this.connectorDuration = new Histogram({
      name: `${METRIC_PREFIX}connector_request_duration_seconds`,
      help: "Time from sending a request to an app's API to having read its answer (or given up)",
      labelNames: ["app"],
      buckets: CONNECTOR_BUCKETS,
      registers,
    });
    this.rateLimitWaits = new Histogram({
      name: `${METRIC_PREFIX}connector_rate_limit_wait_seconds`,
      help: "Waits for a slot in the client-side rate limit of an app's API (count: sends that waited; sum: seconds waited)",
      labelNames: ["app"],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.ticketSyncFailures = new Counter({
      name: `${METRIC_PREFIX}ticket_sync_failures_total`,
      help: "Task ticket creates, closes and read-backs against HaloPSA that failed (each is retried)",
      registers,
    });
  }

  ticketSyncFailed(): void {
    this.ticketSyncFailures.inc();
  }

  requestFinished(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status: String(status) }, seconds);
  }

  exchanged(app: string, outcome: ExchangeOutcome, seconds: number): void {
    this.connectorRequests.inc({ app, outcome });
    this.connectorDuration.observe({ app }, seconds);
  }

  rateLimitWaited(app: string, seconds: number): void {
    this.rateLimitWaits.observe({ app }, seconds);
  }
}
