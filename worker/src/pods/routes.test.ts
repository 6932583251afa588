import { type PodManifest, parseManifest } from "@podnet/sdk/protocol";
import { describe, expect, it } from "vitest";
import { RouteTable } from "./routes.js";

const IMAGE = `nginx@sha256:${"a".repeat(64)}`;
const DOMAIN = "pods.localhost";

function manifest(http: { container: string; port: number; host?: string }[]): PodManifest {
  const containers = [...new Set(http.map((e) => e.container))].map((name) => ({
    name,
    image: IMAGE,
    resources: { cpuMillis: 100, memoryMiB: 64 },
  }));
  return parseManifest({ version: 1, containers, expose: { http } });
}

/** Every replica listens on a port derived from the container and port, so a test can tell routes apart. */
const targetsOf =
  (base: number, replicas = 1) =>
  (container: string, port: number) =>
    Array.from({ length: replicas }, (_, r) => `127.0.0.1:${base + port + container.length * 1000 + r}`);

/** Every custom host is proven for every lease (the proof itself is host-proofs.ts's business). */
const proven = () => true;

describe("RouteTable", () => {
  it("generates l<id>.<domain> for the first HTTP expose and l<id>-<container>-<port>.<domain> for each", () => {
    const routes = new RouteTable(DOMAIN, proven);
    const m = manifest([
      { container: "web", port: 80 },
      { container: "web", port: 8080 },
      { container: "admin", port: 9000 },
    ]);
    expect(routes.hostsFor("7", m)).toEqual([
      { host: "l7.pods.localhost", container: "web", port: 80 },
      { host: "l7-web-80.pods.localhost", container: "web", port: 80 },
      { host: "l7-web-8080.pods.localhost", container: "web", port: 8080 },
      { host: "l7-admin-9000.pods.localhost", container: "admin", port: 9000 },
    ]);
    routes.set("7", m, (container, port) => [`127.0.0.1:${container === "web" ? port + 1 : 5}`]);
    expect(routes.size).toBe(4);
    expect(routes.hostsOf("7")).toEqual([
      "l7.pods.localhost",
      "l7-web-80.pods.localhost",
      "l7-web-8080.pods.localhost",
      "l7-admin-9000.pods.localhost",
    ]);
    expect(routes.resolve("l7.pods.localhost")).toBe("127.0.0.1:81");
    expect(routes.resolve("l7-web-80.pods.localhost")).toBe("127.0.0.1:81");
    expect(routes.resolve("l7-web-8080.pods.localhost")).toBe("127.0.0.1:8081");
    expect(routes.resolve("l7-admin-9000.pods.localhost")).toBe("127.0.0.1:5");
  });

  it("serves nothing for a pod without HTTP exposes", () => {
    const routes = new RouteTable(DOMAIN, proven);
    const m = parseManifest({
      version: 1,
      containers: [{ name: "db", image: IMAGE, resources: { cpuMillis: 100, memoryMiB: 64 } }],
      expose: { tcp: [{ container: "db", port: 5432 }] },
    });
    routes.set("1", m, targetsOf(0));
    expect(routes.size).toBe(0);
    expect(routes.hostsOf("1")).toEqual([]);
    expect(routes.resolve("l1.pods.localhost")).toBeUndefined();
  });

  it("round-robins across the replicas of a route", () => {
    const routes = new RouteTable(DOMAIN, proven);
    routes.set("3", manifest([{ container: "web", port: 80 }]), () => [
      "127.0.0.1:1001",
      "127.0.0.1:1002",
      "127.0.0.1:1003",
    ]);
    const seen = Array.from({ length: 7 }, () => routes.resolve("l3.pods.localhost"));
    expect(seen).toEqual([
      "127.0.0.1:1001",
      "127.0.0.1:1002",
      "127.0.0.1:1003",
      "127.0.0.1:1001",
      "127.0.0.1:1002",
      "127.0.0.1:1003",
      "127.0.0.1:1001",
    ]);
    // Each host name keeps its own rotation.
    expect(routes.resolve("l3-web-80.pods.localhost")).toBe("127.0.0.1:1001");
  });

  it("resolves Host headers with a port or in upper case, and nothing for unknown or missing hosts", () => {
    const routes = new RouteTable(DOMAIN, proven);
    routes.set("9", manifest([{ container: "web", port: 80, host: "app.example.com" }]), () => ["127.0.0.1:4000"]);
    expect(routes.resolve("L9.Pods.LocalHost:8080")).toBe("127.0.0.1:4000");
    expect(routes.resolve("APP.EXAMPLE.COM:443")).toBe("127.0.0.1:4000");
    expect(routes.resolve("l10.pods.localhost")).toBeUndefined();
    expect(routes.resolve("pods.localhost")).toBeUndefined();
    expect(routes.resolve("")).toBeUndefined();
    expect(routes.resolve(undefined)).toBeUndefined();
  });

  it("resolves nothing for a route whose pod has no replica listening", () => {
    const routes = new RouteTable(DOMAIN, proven);
    routes.set("4", manifest([{ container: "web", port: 80 }]), () => []);
    expect(routes.hostsOf("4")).toContain("l4.pods.localhost");
    expect(routes.resolve("l4.pods.localhost")).toBeUndefined();
  });

  it("routes a custom host only to the lease its DNS proof names, and moves it when the proof does", () => {
    let holder = "1";
    const routes = new RouteTable(DOMAIN, (host, leaseId) => host === "shop.example.com" && leaseId === holder);
    const custom = { container: "web", port: 80, host: "shop.example.com" };
    routes.set("1", manifest([custom]), () => ["127.0.0.1:1111"]);
    routes.set("2", manifest([custom]), () => ["127.0.0.1:2222"]);
    expect(routes.hostsOf("1")).toContain("shop.example.com");
    expect(routes.hostsOf("2")).toEqual(["l2.pods.localhost", "l2-web-80.pods.localhost"]);
    expect(routes.resolve("shop.example.com")).toBe("127.0.0.1:1111");

    // The proof now names lease 2: once both set their routes again, lease 2 serves it.
    holder = "2";
    routes.set("1", manifest([custom]), () => ["127.0.0.1:1111"]);
    expect(routes.resolve("shop.example.com")).toBeUndefined();
    routes.set("2", manifest([custom]), () => ["127.0.0.1:2222"]);
    expect(routes.resolve("shop.example.com")).toBe("127.0.0.1:2222");
  });

  it("routes no custom host without a proof", () => {
    const routes = new RouteTable(DOMAIN);
    routes.set("1", manifest([{ container: "web", port: 80, host: "shop.example.com" }]), () => ["127.0.0.1:1111"]);
    expect(routes.resolve("shop.example.com")).toBeUndefined();
  });

  it("does not let a custom host under the ingress domain take or delete another lease's route", () => {
    const routes = new RouteTable(DOMAIN, proven);
    // Lease 7 asks for the generated name of lease 8 before lease 8 exists: names under the domain are not given out.
    const squatter = manifest([{ container: "web", port: 80, host: "l8.pods.localhost" }]);
    routes.set("7", squatter, () => ["127.0.0.1:7777"]);
    expect(routes.resolve("l8.pods.localhost")).toBeUndefined();
    expect(routes.resolve("l7.pods.localhost")).toBe("127.0.0.1:7777");

    // Lease 8's generated name is its own.
    routes.set("8", manifest([{ container: "app", port: 3000 }]), () => ["127.0.0.1:8888"]);
    expect(routes.resolve("l8.pods.localhost")).toBe("127.0.0.1:8888");

    // Lease 7 reconciling again does not take it back ...
    routes.set("7", squatter, () => ["127.0.0.1:7777"]);
    expect(routes.resolve("l8.pods.localhost")).toBe("127.0.0.1:8888");
    expect(routes.hostsOf("7")).not.toContain("l8.pods.localhost");

    // ... and lease 7 ending does not remove lease 8's route.
    routes.set("7", squatter, () => ["127.0.0.1:7777"]);
    routes.remove("7");
    expect(routes.resolve("l8.pods.localhost")).toBe("127.0.0.1:8888");
    expect(routes.resolve("l7.pods.localhost")).toBeUndefined();
  });

  it("removes the custom hosts a lease holds along with its generated ones", () => {
    const routes = new RouteTable(DOMAIN, proven);
    routes.set("7", manifest([{ container: "web", port: 80, host: "shop.example.test" }]), () => ["127.0.0.1:7777"]);
    expect(routes.resolve("shop.example.test")).toBe("127.0.0.1:7777");
    routes.remove("7");
    expect(routes.resolve("shop.example.test")).toBeUndefined();
    expect(routes.size).toBe(0);
  });

  it("replaces a lease's routes on set and drops them all on remove", () => {
    const routes = new RouteTable(DOMAIN, proven);
    routes.set(
      "5",
      manifest([
        { container: "web", port: 80 },
        { container: "api", port: 9000, host: "api.example.com" },
      ]),
      targetsOf(0),
    );
    routes.set("6", manifest([{ container: "web", port: 80 }]), () => ["127.0.0.1:6666"]);
    expect(routes.size).toBe(6);

    // An update that no longer exposes api drops its hosts.
    routes.set("5", manifest([{ container: "web", port: 81 }]), () => ["127.0.0.1:5555"]);
    expect(routes.hostsOf("5")).toEqual(["l5.pods.localhost", "l5-web-81.pods.localhost"]);
    expect(routes.resolve("api.example.com")).toBeUndefined();
    expect(routes.resolve("l5-web-80.pods.localhost")).toBeUndefined();
    expect(routes.resolve("l5.pods.localhost")).toBe("127.0.0.1:5555");

    routes.remove("5");
    expect(routes.hostsOf("5")).toEqual([]);
    expect(routes.resolve("l5.pods.localhost")).toBeUndefined();
    expect(routes.size).toBe(2);
    expect(routes.resolve("l6.pods.localhost")).toBe("127.0.0.1:6666");
    routes.remove("5"); // removing twice is harmless
    routes.remove("unknown");
    expect(routes.size).toBe(2);
  });

  describe("a custom host awaiting its proof", () => {
    /** Proofs held in a set; `lookups` counts the on-demand lookups, each settled by the test through `settle`. */
    function provedOnDemand() {
      const held = new Set<string>();
      const lookups: string[] = [];
      let settle: (proven: boolean) => void = () => {};
      const routes = new RouteTable(
        DOMAIN,
        (host, leaseId) => held.has(`${host} ${leaseId}`),
        (host, leaseId) => {
          lookups.push(`${host} ${leaseId}`);
          return new Promise<boolean>((resolve) => {
            settle = (proven) => {
              if (proven) held.add(`${host} ${leaseId}`);
              resolve(proven);
            };
          });
        },
      );
      return { routes, lookups, settle: (proven: boolean) => settle(proven) };
    }
    const withHost = manifest([{ container: "web", port: 80, host: "app.example.com" }]);

    it("is looked up once for a burst of requests, and routed when the proof holds", async () => {
      const { routes, lookups, settle } = provedOnDemand();
      routes.set("9", withHost, targetsOf(0));
      expect(routes.resolve("app.example.com")).toBeUndefined();
      expect(routes.awaitsProof("App.Example.com:80")).toBe(true);
      const waiting = Array.from({ length: 50 }, () => routes.proveOnDemand("app.example.com"));
      expect(lookups).toEqual(["app.example.com 9"]);
      settle(true);
      await Promise.all(waiting);
      expect(routes.resolve("app.example.com")).toBe(routes.resolve("l9.pods.localhost"));
      expect(routes.awaitsProof("app.example.com")).toBe(false);
    });

    it("stays unrouted when the proof does not hold, and is looked up again on a later request", async () => {
      const { routes, lookups, settle } = provedOnDemand();
      routes.set("9", withHost, targetsOf(0));
      const first = routes.proveOnDemand("app.example.com");
      settle(false);
      await first;
      expect(routes.resolve("app.example.com")).toBeUndefined();
      expect(routes.awaitsProof("app.example.com")).toBe(true);
      const second = routes.proveOnDemand("app.example.com");
      settle(true);
      await second;
      expect(lookups).toHaveLength(2);
      expect(routes.resolve("app.example.com")).toBeDefined();
    });

    it("asks nothing for a host no lease declares, nor for the provider's own names", async () => {
      const { routes, lookups } = provedOnDemand();
      routes.set("9", manifest([{ container: "web", port: 80, host: "x.pods.localhost" }]), targetsOf(0));
      for (const host of ["evil.example.com", "x.pods.localhost", "l10.pods.localhost"]) {
        expect(routes.awaitsProof(host)).toBe(false);
        await routes.proveOnDemand(host);
      }
      expect(lookups).toEqual([]);
    });

    it("gives no route to a lease removed while its proof was looked up", async () => {
      const { routes, settle } = provedOnDemand();
      routes.set("9", withHost, targetsOf(0));
      const lookup = routes.proveOnDemand("app.example.com");
      routes.remove("9");
      expect(routes.awaitsProof("app.example.com")).toBe(false);
      settle(true);
      await lookup;
      expect(routes.resolve("app.example.com")).toBeUndefined();
      expect(routes.size).toBe(0);
    });
  });
});
