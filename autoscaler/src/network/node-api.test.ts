import { getAddress } from "viem";
import { describe, expect, it } from "vitest";
import type { AppStatus } from "../status-wire.js";
import { type NodeOverview, nodeApi } from "./node-api.js";

const SELF = getAddress("0x00000000000000000000000000000000000000a1");
const OTHER = getAddress("0x00000000000000000000000000000000000000a2");
const HERE = getAddress("0x00000000000000000000000000000000000000b1");
const THERE = getAddress("0x00000000000000000000000000000000000000b2");

const overview: NodeOverview = {
  node: SELF,
  chainId: 31337,
  live: [SELF, OTHER],
  apps: [
    { vault: HERE, servedBy: SELF, runningHere: true, problems: [] },
    { vault: THERE, servedBy: OTHER, runningHere: false, problems: [] },
  ],
  lastTick: "2026-12-04T00:00:00.000Z",
};
const status: AppStatus = { vault: HERE, chainId: 31337, desired: 1, instances: [], problems: [], lastPass: null };

const api = nodeApi({
  overview: () => overview,
  appStatus: (vault) => (vault === HERE ? status : undefined),
  metrics: async () => ({ text: "podnet_autoscaler_node_live_nodes 2\n", type: "text/plain; version=0.0.4" }),
});

describe("the node's HTTP API", () => {
  it("GET /v1/node: the live nodes and every network app with who serves it", async () => {
    const response = await api.request("/v1/node");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(overview);
  });

  it("GET /v1/apps/:vault/status: the status of an app run here, whatever the address's case", async () => {
    const response = await api.request(`/v1/apps/${HERE.toLowerCase()}/status`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(status);
  });

  it("404 naming the serving node for an app run elsewhere, and null for an unknown one", async () => {
    const elsewhere = await api.request(`/v1/apps/${THERE}/status`);
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toMatchObject({ error: { code: "NOT_SERVED_HERE" }, servedBy: OTHER });
    const unknown = await api.request(`/v1/apps/${getAddress(`0x${"c".repeat(40)}`)}/status`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ servedBy: null });
  });

  it("400 for a vault that is not an address; /metrics in Prometheus text", async () => {
    const bad = await api.request("/v1/apps/not-an-address/status");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^vault: /);
    const metrics = await api.request("/metrics");
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await metrics.text()).toContain("podnet_autoscaler_node_live_nodes 2");
  });
});
