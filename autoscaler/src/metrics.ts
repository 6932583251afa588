import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The autoscaler's Prometheus metrics (`GET /metrics`), one registry per autoscaler. */
export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    instances: new Gauge({
      name: "podnet_autoscaler_instances",
      help: "Instances in the app's slots by health (healthy, starting, failing)",
      labelNames: ["health"],
      registers: [registry],
    }),
    desired: new Gauge({
      name: "podnet_autoscaler_desired_instances",
      help: "Instances app.yaml asks for, within the vault's limits",
      registers: [registry],
    }),
    replacements: new Counter({
      name: "podnet_autoscaler_replacements_total",
      help: "Slots filled or replaced, by why",
      labelNames: ["reason"],
      registers: [registry],
    }),
    placementFailures: new Counter({
      name: "podnet_autoscaler_placement_failures_total",
      help: "Attempts to fill a slot that placed nothing, by why",
      labelNames: ["reason"],
      registers: [registry],
    }),
    probes: new Counter({
      name: "podnet_autoscaler_probes_total",
      help: "Health probes by result",
      labelNames: ["result"],
      registers: [registry],
    }),
    topUps: new Counter({
      name: "podnet_autoscaler_top_ups_total",
      help: "Lease top-ups sent from the app's balance",
      registers: [registry],
    }),
    scaleDowns: new Counter({
      name: "podnet_autoscaler_scale_downs_total",
      help: "Surplus slots the autoscaler tried to clear, by result (cleared, raced, failed)",
      labelNames: ["result"],
      registers: [registry],
    }),
    specUpdates: new Counter({
      name: "podnet_autoscaler_spec_updates_total",
      help: "Running leases moved to the app's new spec (rolling update)",
      registers: [registry],
    }),
    orders: new Counter({
      name: "podnet_autoscaler_orders_total",
      help: "Reverse-market orders of the app by event (created, accepted, cancelled)",
      labelNames: ["result"],
      registers: [registry],
    }),
    passSeconds: new Histogram({
      name: "podnet_autoscaler_reconcile_seconds",
      help: "Duration of a reconcile pass",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
