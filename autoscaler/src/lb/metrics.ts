import { Counter, Gauge, Registry } from "prom-client";

/** podnet-lb's Prometheus metrics, one registry per balancer (served on `metricsPort` when set). */
export function createLbMetrics() {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({
      name: "podnet_lb_requests_total",
      help: "Client requests answered, by status code (the balancer's own 502/503/504 included)",
      labelNames: ["code"],
      registers: [registry],
    }),
    retries: new Counter({
      name: "podnet_lb_retries_total",
      help: "Requests sent again to another instance, by why the previous try failed",
      labelNames: ["reason"],
      registers: [registry],
    }),
    ejections: new Counter({
      name: "podnet_lb_ejections_total",
      help: "Instances taken out of rotation after a failed request, by why",
      labelNames: ["reason"],
      registers: [registry],
    }),
    instances: new Gauge({
      name: "podnet_lb_instances",
      help: "Instances known from the status URLs",
      registers: [registry],
    }),
    statusPollFailures: new Counter({
      name: "podnet_lb_status_poll_failures_total",
      help: "Status reads that failed (the last good instance set stays in use)",
      registers: [registry],
    }),
  };
}

export type LbMetrics = ReturnType<typeof createLbMetrics>;
