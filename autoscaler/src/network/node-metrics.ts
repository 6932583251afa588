import { AggregatorRegistry, Counter, Gauge, Registry } from "prom-client";
import type { Metrics } from "../metrics.js";

/** The node's own Prometheus metrics; each app runner keeps its own registry (labelled with its vault). */
export function createNodeMetrics() {
  const registry = new Registry();
  return {
    registry,
    liveNodes: new Gauge({
      name: "podnet_autoscaler_node_live_nodes",
      help: "Live nodes of the network at the last tick",
      registers: [registry],
    }),
    apps: new Gauge({
      name: "podnet_autoscaler_node_apps",
      help: "Network-mode apps by what this node does with them (assigned, running, missing_bundle, network)",
      labelNames: ["state"],
      registers: [registry],
    }),
    heartbeats: new Counter({
      name: "podnet_autoscaler_node_heartbeats_total",
      help: "Heartbeat transactions by result (ok, failed)",
      labelNames: ["result"],
      registers: [registry],
    }),
    takeovers: new Counter({
      name: "podnet_autoscaler_node_runner_changes_total",
      help: "App runners started and stopped on this node",
      labelNames: ["event"],
      registers: [registry],
    }),
  };
}

export type NodeMetrics = ReturnType<typeof createNodeMetrics>;

/** The node's metrics and every running app's, in one exposition (the apps' series carry a `vault` label). */
export async function nodeMetricsText(node: NodeMetrics, apps: Metrics[]): Promise<{ text: string; type: string }> {
  const appJson = await Promise.all(apps.map((m) => m.registry.getMetricsAsJSON()));
  const merged = apps.length > 0 ? AggregatorRegistry.aggregate(appJson) : new Registry();
  const text = `${await node.registry.metrics()}\n${await merged.metrics()}`;
  return { text, type: node.registry.contentType };
}
