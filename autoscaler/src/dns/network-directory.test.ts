import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DnsConfigError } from "./config.js";
import { type DirectoryNode, networkAppLabel, networkDirectory, nodeStatusUrl } from "./network-directory.js";
import { type DnsServer, startDnsServer } from "./server.js";
import { appStatus, instance, type StatusServer, startStatusServer, udpQuery } from "./test-helpers.js";

const ZONE = "net.test";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const vaultA = "0x00000000000000000000000000000000000000aA" as Address;
const vaultB = "0x00000000000000000000000000000000000000Bb" as Address;
const node = (n: number, endpoint: string, dnsIpv4: string | undefined = `127.0.0.${n}`): DirectoryNode => ({
  address: `0x${n.toString(16).padStart(40, "0")}` as Address,
  endpoint,
  ...(dnsIpv4 ? { dnsIpv4 } : {}),
});

describe("networkDirectory", () => {
  it("lists every live node with a DNS address as a nameserver and each app at its vault's label", () => {
    const live = [node(2, "http://10.0.0.2:7100"), node(1, "http://10.0.0.1:7100"), node(3, "http://x", "")];
    const directory = networkDirectory({ zone: ZONE, live, apps: [vaultB, vaultA], servedBy: () => live[0]?.address });
    expect(directory?.nameservers).toEqual([
      { name: `ns-${"0".repeat(39)}1.${ZONE}`, addresses: ["127.0.0.1"] },
      { name: `ns-${"0".repeat(39)}2.${ZONE}`, addresses: ["127.0.0.2"] },
    ]);
    expect(directory?.apps).toEqual([
      { name: networkAppLabel(vaultA), statusUrls: [`http://10.0.0.2:7100/v1/apps/${vaultA.toLowerCase()}/status`] },
      { name: networkAppLabel(vaultB), statusUrls: [`http://10.0.0.2:7100/v1/apps/${vaultB.toLowerCase()}/status`] },
    ]);
  });

  it("has no directory without a nameserver, and leaves out an app no live node serves", () => {
    expect(
      networkDirectory({
        zone: ZONE,
        live: [node(1, "http://x", "")],
        apps: [vaultA],
        servedBy: () => undefined,
      }),
    ).toBeUndefined();
    const live = [node(1, "http://10.0.0.1:7100")];
    expect(networkDirectory({ zone: ZONE, live, apps: [vaultA], servedBy: () => undefined })?.apps).toEqual([]);
  });
});

describe("a DNS server whose directory changes (a node joins, an app moves)", () => {
  let one: StatusServer;
  let two: StatusServer;
  let dns: DnsServer;
  beforeAll(async () => {
    one = await startStatusServer(appStatus([instance("1", "healthy", ["127.0.0.11"])]));
    two = await startStatusServer(appStatus([instance("2", "healthy", ["127.0.0.22"])]));
    dns = await startDnsServer({
      config: {
        zone: ZONE,
        listen: { host: "127.0.0.1", port: 0 },
        nameservers: [{ name: `ns-a.${ZONE}`, addresses: ["192.0.2.1"] }],
        soa: { rname: "hostmaster@example.test" },
        ingressPort: 8080,
        allowPrivateAddresses: true,
        apps: [{ name: "aa", statusUrls: [one.url] }],
        pollIntervalSec: 0.1,
      },
      log: quiet,
    });
  });
  afterAll(async () => {
    await dns?.close();
    await one?.close();
    await two?.close();
  });

  it("answers the new nameservers and apps at once, and an app's new node's instances", async () => {
    expect((await udpQuery(dns.port, `aa.${ZONE}`)).answer.answers?.map((a) => a.data)).toEqual(["127.0.0.11"]);
    const serialBefore = dns.zone().soa.serial;
    await dns.setDirectory({
      apps: [
        { name: "aa", statusUrls: [two.url] },
        { name: "bb", statusUrls: [one.url] },
      ],
      nameservers: [
        { name: `ns-a.${ZONE}`, addresses: ["192.0.2.1"] },
        { name: `ns-b.${ZONE}`, addresses: ["192.0.2.2"] },
      ],
    });
    const ns = await udpQuery(dns.port, ZONE, { type: "NS" });
    expect(ns.answer.answers?.map((a) => a.data).sort()).toEqual([`ns-a.${ZONE}`, `ns-b.${ZONE}`]);
    expect((await udpQuery(dns.port, `ns-b.${ZONE}`)).answer.answers?.map((a) => a.data)).toEqual(["192.0.2.2"]);
    expect((await udpQuery(dns.port, `aa.${ZONE}`)).answer.answers?.map((a) => a.data)).toEqual(["127.0.0.22"]);
    expect((await udpQuery(dns.port, `bb.${ZONE}`)).answer.answers?.map((a) => a.data)).toEqual(["127.0.0.11"]);
    expect(dns.zone().soa.serial).toBeGreaterThan(serialBefore);
    // The node that left is no nameserver any more, and an app that left the directory no longer exists.
    await dns.setDirectory({
      apps: [{ name: "bb", statusUrls: [one.url] }],
      nameservers: [{ name: `ns-b.${ZONE}`, addresses: ["192.0.2.2"] }],
    });
    expect((await udpQuery(dns.port, ZONE, { type: "NS" })).answer.answers?.map((a) => a.data)).toEqual([
      `ns-b.${ZONE}`,
    ]);
    expect((await udpQuery(dns.port, `aa.${ZONE}`)).answer.rcode).toBe("NXDOMAIN");
    const requestsToTwo = two.requests;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(two.requests).toBe(requestsToTwo);
  });

  it("refuses a bad directory naming the field, and keeps answering the last good one", async () => {
    await expect(
      dns.setDirectory({ apps: [{ name: "Not A Label", statusUrls: [one.url] }], nameservers: [] }),
    ).rejects.toThrow(DnsConfigError);
    await expect(dns.setDirectory({ apps: [], nameservers: [] })).rejects.toThrow(/nameservers/);
    await expect(
      dns.setDirectory({
        apps: [{ name: "bad", statusUrls: ["file:///etc/passwd"] }],
        nameservers: [{ name: `ns-b.${ZONE}` }],
      }),
    ).rejects.toThrow(/apps\.0\.statusUrls\.0/);
    expect((await udpQuery(dns.port, `bb.${ZONE}`)).answer.answers?.map((a) => a.data)).toEqual(["127.0.0.11"]);
  });
});

describe("nodeStatusUrl", () => {
  it("puts the app's status path on the node's endpoint", () => {
    expect(nodeStatusUrl("https://node.example:8443/", vaultA)).toBe(
      `https://node.example:8443/v1/apps/${vaultA.toLowerCase()}/status`,
    );
  });
});
