import { getAddress } from "viem";
import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.js";
import { statusApi } from "./status-api.js";
import { type AppStatus, parseAppStatus } from "./status-wire.js";

const status: AppStatus = {
  vault: "0x00000000000000000000000000000000000000AA",
  chainId: 31337,
  desired: 1,
  instances: [
    {
      slot: 0,
      leaseId: "7",
      provider: "0x00000000000000000000000000000000000000bB",
      hostUrl: "http://l7.pods.localhost:8080/",
      tcp: null,
      ingress: { addresses: ["127.0.0.2"], port: 8080 },
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
    const body = await res.json();
    expect(body).toEqual(status);
    // What podnet-dns and podnet-lb read back: the same status, addresses checksummed.
    expect(parseAppStatus(body).instances[0]?.provider).toBe(getAddress("0x00000000000000000000000000000000000000bb"));
    const prom = await api.request("/metrics");
    expect(prom.headers.get("content-type")).toContain("text/plain");
    expect(await prom.text()).toContain('podnet_autoscaler_instances{health="healthy"} 1');
    const missing = await api.request("/status", { method: "POST" });
    expect(missing.status).toBe(404);
  });
});
