import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics of one worker, served at GET /metrics. One registry per worker so tests can run several.
 * `loopPrecisionMs` is how often the event loop's lag is sampled (the config's metricsLoopPrecisionMs, default 10).
 */
export function createMetrics({ loopPrecisionMs = 10 }: { loopPrecisionMs?: number } = {}) {
  const registry = new Registry();
  const prefix = "podnet_worker_";
  // process_open_fds, process_max_fds, process_resident_memory_bytes, event loop lag: what an operator watches when
  // the listeners are under load (the descriptor budget, net/fd-budget.ts). The lag sampler wakes the loop once per
  // interval: at 10 ms (prom-client's default) about half of an idle worker's CPU (docs/worker.md, metricsLoopPrecisionMs).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: loopPrecisionMs });
  return {
    registry,
    leasesActive: new Gauge({
      name: `${prefix}leases_active`,
      help: "Active leases of this provider",
      registers: [registry],
    }),
    leasesCreated: new Counter({
      name: `${prefix}leases_created_total`,
      help: "Leases started",
      registers: [registry],
    }),
    containersRunning: new Gauge({
      name: `${prefix}containers_running`,
      help: "Pod containers running",
      registers: [registry],
    }),
    bidsPlaced: new Counter({ name: `${prefix}bids_placed_total`, help: "Bids placed", registers: [registry] }),
    chainCursor: new Gauge({ name: `${prefix}chain_cursor`, help: "Next block to follow", registers: [registry] }),
    reconcileSeconds: new Histogram({
      name: `${prefix}reconcile_seconds`,
      help: "Duration of a full reconcile pass",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    provisionSeconds: new Histogram({
      name: `${prefix}provision_seconds`,
      help: "Manifest received to pod running",
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: `${prefix}reconcile_errors_total`,
      help: "Failed pod reconciles",
      registers: [registry],
    }),
    apiRequests: new Counter({
      name: `${prefix}api_requests_total`,
      help: "Provider API requests",
      labelNames: ["route", "status"],
      registers: [registry],
    }),
    ingressRequests: new Counter({
      name: `${prefix}ingress_requests_total`,
      help: "Requests through the pod ingress",
      labelNames: ["status"],
      registers: [registry],
    }),
    ingressUpgraded: new Gauge({
      name: `${prefix}ingress_upgraded_connections`,
      help: "Upgraded (WebSocket and the like) connections the ingress is piping now",
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: `${prefix}connections_refused_total`,
      help: "Connections a listener closed at once: over its connection cap, or an upgrade over its pod's cap",
      labelNames: ["listener", "reason"],
      registers: [registry],
    }),
    withdrawnWei: new Counter({
      name: `${prefix}withdrawn_base_units_total`,
      help: "Token base units withdrawn (net of fees)",
      registers: [registry],
    }),
    heartbeats: new Counter({ name: `${prefix}heartbeats_total`, help: "Heartbeats sent", registers: [registry] }),
    reconcileLeaseTimeouts: new Counter({
      name: `${prefix}reconcile_lease_timeouts_total`,
      help: "Lease reconciles a pass stopped waiting for (still running in the background)",
      registers: [registry],
    }),
    reconcileFailedPasses: new Gauge({
      name: `${prefix}reconcile_failed_passes`,
      help: "Reconcile passes failed in a row (Docker unreachable)",
      registers: [registry],
    }),
    teardownsDeferred: new Counter({
      name: `${prefix}teardowns_deferred_total`,
      help: "Pod stops put off because the chain could not confirm the lease is unpaid",
      registers: [registry],
    }),
    teardownsRefused: new Counter({
      name: `${prefix}teardowns_refused_total`,
      help: "Pod stops the teardown guard refused (too many without a confirmed on-chain reason)",
      registers: [registry],
    }),
    chainReachable: new Gauge({
      name: `${prefix}chain_reachable`,
      help: "1 while the RPC answers, 0 while it does not",
      registers: [registry],
    }),
    chainHeadAgeSeconds: new Gauge({
      name: `${prefix}chain_head_age_seconds`,
      help: "Seconds since the worker saw a new block",
      registers: [registry],
    }),
    chainReorgs: new Counter({
      name: `${prefix}chain_reorgs_total`,
      help: "Reorganisations noticed (events replayed)",
      registers: [registry],
    }),
    dockerReachable: new Gauge({
      name: `${prefix}docker_reachable`,
      help: "1 while the Docker Engine answers, 0 while it does not",
      registers: [registry],
    }),
    warmSlotsReady: new Gauge({
      name: `${prefix}warm_networks_ready`,
      help: "Warm pod networks made (with their infra containers) and not yet handed to a lease",
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
