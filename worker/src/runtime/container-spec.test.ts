import { parseManifest } from "@podnet/sdk/protocol";
import { describe, expect, it } from "vitest";
import { containerSpec, type PodPlan, planVolumes, specHashOf, validatePlan } from "./container-spec.js";
import { containerUsage } from "./stats.js";

const instance = { provider: "0x00000000000000000000000000000000000000aa", tag: "1234abcd" } as const;
const ref = `registry.example/app@sha256:${"1".repeat(64)}`;
const blob = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
const manifest = parseManifest({
  version: 1,
  replicas: 2,
  containers: [
    {
      name: "app",
      image: ref,
      command: ["/app"],
      args: ["--port", "80"],
      env: { B: "2", A: "1" },
      resources: { cpuMillis: 1500, memoryMiB: 256, pids: 100 },
      mounts: [
        { volume: "keys", path: "/keys" },
        { volume: "data", path: "/data", readOnly: true },
        { volume: "tmp", path: "/tmp" },
      ],
    },
  ],
  volumes: [
    { type: "secret", name: "keys", files: [{ path: "k", blob }] },
    { type: "persistent", name: "data", sizeMiB: 10 },
    { type: "empty", name: "tmp", sizeMiB: 10 },
  ],
  expose: { http: [{ container: "app", port: 80 }], tcp: [{ container: "app", port: 5000 }] },
});
const plan: PodPlan = {
  leaseId: 7n,
  specHash: `0x${"ab".repeat(32)}`,
  manifest,
  images: { app: "sha256:feed" },
  secretDirs: { keys: "/dev/shm/keys" },
  tcpHostPorts: { "app:5000:0": 31000, "app:5000:1": 31001 },
};
const options = { instance, network: "net-id", tcpBindIp: "0.0.0.0" } as const;

describe("containerSpec", () => {
  it("translates the manifest into the sandboxed create options", () => {
    const spec = containerSpec(plan, manifest.containers[0] as (typeof manifest.containers)[0], 1, options);
    expect(spec.name).toBe("podnet-00000000-1234abcd-l7-abababab-app-1");
    expect(spec.Entrypoint).toEqual(["/app"]);
    expect(spec.Cmd).toEqual(["--port", "80"]);
    expect(spec.Env).toEqual(["A=1", "B=2"]);
    expect(spec.HostConfig).toMatchObject({
      NanoCpus: 1_500_000_000,
      Memory: 256 * 1024 * 1024,
      MemorySwap: 256 * 1024 * 1024,
      PidsLimit: 100,
      CapDrop: ["ALL"],
      CapAdd: [],
      Privileged: false,
      NetworkMode: "net-id",
      Binds: [],
      PortBindings: {
        "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }],
        "5000/tcp": [{ HostIp: "0.0.0.0", HostPort: "31001" }],
      },
      Mounts: [
        { Type: "bind", Source: "/dev/shm/keys", Target: "/keys", ReadOnly: true },
        { Type: "volume", Source: "podnet-00000000-1234abcd-l7-data-r1", Target: "/data", ReadOnly: true },
        { Type: "volume", Source: "podnet-00000000-1234abcd-l7-abababab-tmp-r1", Target: "/tmp", ReadOnly: false },
      ],
    });
    expect(spec.Labels).toMatchObject({ "podnet.http-ports": "80", "podnet.tcp-ports": "5000:31001" });
    expect(spec.Labels?.["podnet.config"]).toBe(specHashOf(spec));
    const moved = containerSpec(
      { ...plan, tcpHostPorts: { ...plan.tcpHostPorts, "app:5000:1": 32000 } },
      manifest.containers[0] as (typeof manifest.containers)[0],
      1,
      options,
    );
    expect(moved.Labels?.["podnet.config"]).not.toBe(spec.Labels?.["podnet.config"]);
  });

  it("lists the persistent and empty volumes of every replica", () => {
    expect(planVolumes(instance, plan).map((v) => v.name)).toEqual([
      "podnet-00000000-1234abcd-l7-data-r0",
      "podnet-00000000-1234abcd-l7-abababab-tmp-r0",
      "podnet-00000000-1234abcd-l7-data-r1",
      "podnet-00000000-1234abcd-l7-abababab-tmp-r1",
    ]);
  });

  it("names every gap of an incomplete plan", () => {
    expect(() => validatePlan(plan)).not.toThrow();
    expect(() =>
      validatePlan({ ...plan, images: {}, secretDirs: {}, tcpHostPorts: { "app:5000:0": 31000, "app:5000:1": 31000 } }),
    ).toThrow(
      /no local image for container app; no host directory for secret volume keys; host port 31000 given to both/,
    );
  });
});

describe("containerUsage", () => {
  it("computes CPU percent and memory the way docker stats does", () => {
    const usage = containerUsage({
      cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 2_500_000_000 }, system_cpu_usage: 18_000_000_000 },
      memory_stats: { usage: 10_000_000, limit: 67_108_864, stats: { total_inactive_file: 1_000_000 } },
      networks: { eth0: { rx_bytes: 10, tx_bytes: 20 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
      pids_stats: { current: 3 },
    });
    expect(usage).toEqual({
      cpuNanos: 3_000_000_000n,
      cpuPercent: 50,
      memoryBytes: 9_000_000,
      memoryLimitBytes: 67_108_864,
      rxBytes: 11,
      txBytes: 22,
      pids: 3,
    });
    expect(containerUsage({})).toMatchObject({ cpuNanos: 0n, cpuPercent: 0, memoryBytes: 0 });
  });
});
