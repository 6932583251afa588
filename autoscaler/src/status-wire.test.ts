import { describe, expect, it } from "vitest";
import { type AppStatus, type InstanceStatus, parseAppStatus, routableInstances } from "./status-wire.js";

const instance = (leaseId: string, health: InstanceStatus["health"]): InstanceStatus => ({
  slot: Number(leaseId),
  leaseId,
  provider: "0x00000000000000000000000000000000000000bb",
  hostUrl: `http://l${leaseId}.pods.localhost:8080/`,
  tcp: null,
  ingress: { addresses: [`127.0.0.${leaseId}`], port: 8080 },
  health,
  lastProbe: null,
});

const status = (instances: InstanceStatus[]): AppStatus => ({
  vault: "0x00000000000000000000000000000000000000aa",
  chainId: 31337,
  desired: instances.length,
  instances,
  problems: [],
  lastPass: null,
});

describe("status wire format", () => {
  it("names the field that is wrong", () => {
    const bad = status([instance("2", "healthy")]) as unknown as { instances: { ingress: { addresses: string[] } }[] };
    (bad.instances[0] as { ingress: { addresses: string[] } }).ingress.addresses = ["pods.example"];
    expect(() => parseAppStatus(bad)).toThrow("status instances.0.ingress.addresses.0: not an IP address");
    expect(() => parseAppStatus({ ...status([]), chainId: -1 })).toThrow("status chainId:");
    expect(() => parseAppStatus([])).toThrow("status (root):");
  });

  it("routes to the healthy instances, and to all of them when none is healthy", () => {
    const mixed = status([instance("2", "healthy"), instance("3", "failing"), instance("4", "starting")]);
    expect(routableInstances(mixed).map((i) => i.leaseId)).toEqual(["2"]);
    const down = status([instance("3", "failing"), instance("4", "replacing")]);
    expect(routableInstances(down).map((i) => i.leaseId)).toEqual(["3", "4"]);
  });
});
