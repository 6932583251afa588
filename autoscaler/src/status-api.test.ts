import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.js";
import type { AppStatus } from "./reconciler.js";
import { statusApi } from "./status-api.js";

const status: AppStatus = {
  vault: "0x00000000000000000000000000000000000000AA",
  desired: 1,
  instances: [
    {
      slot: 0,
      leaseId: "7",
      provider: "0x00000000000000000000000000000000000000bB",
      hostUrl: "http://l7.pods.localhost:8080/",
      tcp: null,
      health: "healthy",
      lastProbe: { at: "2026-01-01T00:00:00.000Z", ok: true, detail: "HTTP 200" },
    },
  ],
  problems: [],
  lastPass: "2026-01-01T00:00:00.000Z",
};

describe("status API", () => {
  it("serves the current status and the metrics, nothing else", async () => {
    const metrics = createMetrics();
    metrics.instances.set({ health: "healthy" }, 1);
    const api = statusApi(() => status, metrics);
    const res = await api.request("/status");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(status);
    const prom = await api.request("/metrics");
    expect(prom.headers.get("content-type")).toContain("text/plain");
    expect(await prom.text()).toContain('podnet_autoscaler_instances{health="healthy"} 1');
    const missing = await api.request("/status", { method: "POST" });
    expect(missing.status).toBe(404);
  });
});
