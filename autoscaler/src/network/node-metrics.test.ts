import { describe, expect, it } from "vitest";
import { createMetrics } from "../metrics.js";
import { createNodeMetrics, nodeMetricsText } from "./node-metrics.js";

describe("the node's /metrics", () => {
  it("holds the node's series and each running app's, told apart by a vault label", async () => {
    const node = createNodeMetrics();
    node.liveNodes.set(3);
    const apps = ["0xaa", "0xbb"].map((vault, i) => {
      const m = createMetrics();
      m.registry.setDefaultLabels({ vault });
      m.desired.set(i + 1);
      m.replacements.inc({ reason: "empty" }, i + 2);
      return m;
    });
    const { text } = await nodeMetricsText(node, apps);
    expect(text).toContain("podnet_autoscaler_node_live_nodes 3");
    expect(text).toContain('podnet_autoscaler_desired_instances{vault="0xaa"} 1');
    expect(text).toContain('podnet_autoscaler_desired_instances{vault="0xbb"} 2');
    expect(text).toContain('podnet_autoscaler_replacements_total{reason="empty",vault="0xbb"} 3');
    // One HELP line per metric name, as Prometheus requires.
    expect(text.match(/# HELP podnet_autoscaler_desired_instances /g)?.length).toBe(1);
    expect((await nodeMetricsText(node, [])).text).toContain("podnet_autoscaler_node_live_nodes 3");
  });
});
