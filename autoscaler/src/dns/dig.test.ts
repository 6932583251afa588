// podnet-dns asked by a real client: Debian's `dig` (bind9-dnsutils, installed by script/toolchain/debian-tools.sh in
// `npm test`), over UDP and TCP, with answers from a real HTTP server serving an autoscaler's /status JSON.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DnsServer, startDnsServer } from "./server.js";
import { appStatus, instance, type StatusServer, startStatusServer } from "./test-helpers.js";

const run = promisify(execFile);
const ZONE = "apps.test";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** dig's answer: the header line's status and flags, and each section's records as "name ttl class type data". */
async function dig(port: number, ...args: string[]) {
  const { stdout } = await run("dig", ["@127.0.0.1", "-p", String(port), "+tries=1", "+time=2", ...args]);
  const status = /status: ([A-Z]+)/.exec(stdout)?.[1];
  const flags = (/;; flags: ([a-z ]+);/.exec(stdout)?.[1] ?? "").trim().split(" ");
  const section = (title: string) => {
    const start = stdout.indexOf(`;; ${title} SECTION:\n`);
    if (start < 0) return [];
    const rest = stdout.slice(start).split("\n").slice(1);
    const end = rest.findIndex((line) => line.trim() === "");
    return rest.slice(0, end < 0 ? undefined : end).map((line) => line.split(/\s+/));
  };
  return {
    stdout,
    status,
    flags,
    answer: section("ANSWER"),
    authority: section("AUTHORITY"),
    additional: section("ADDITIONAL"),
  };
}
const dataOf = (rows: string[][]) => rows.map((row) => row.slice(4).join(" ")).sort();

describe("podnet-dns with dig", () => {
  let status: StatusServer;
  let dns: DnsServer;
  beforeAll(async () => {
    status = await startStatusServer(
      appStatus([instance("7", "healthy", ["127.0.0.2"]), instance("8", "healthy", ["127.0.0.3"])]),
    );
    dns = await startDnsServer({
      config: {
        zone: ZONE,
        listen: { host: "127.0.0.1", port: 0 },
        nameservers: [
          { name: `ns1.${ZONE}`, addresses: ["192.0.2.1", "2001:db8::1"] },
          { name: `ns2.${ZONE}`, addresses: ["192.0.2.2"] },
        ],
        soa: { rname: "hostmaster@example.test", minimum: 45 },
        ttl: 10,
        ingressPort: 8080,
        allowPrivateAddresses: true,
        apps: [
          { name: "web", statusUrls: [status.url] },
          { name: "big", statusUrls: [`${status.url}?big`] },
        ],
        records: [
          { name: "www", type: "CNAME", value: `web.${ZONE}` },
          { name: "@", type: "TXT", value: "podnet app zone" },
        ],
        pollIntervalSec: 0.2,
      },
      log: quiet,
    });
  });
  afterAll(async () => {
    await dns?.close();
    await status?.close();
  });

  for (const transport of ["+notcp", "+tcp"]) {
    describe(transport === "+tcp" ? "over TCP" : "over UDP", () => {
      it("answers SOA at the apex, authoritative and not recursive", async () => {
        const r = await dig(dns.port, transport, ZONE, "SOA");
        expect(r.status).toBe("NOERROR");
        expect(r.flags).toContain("aa");
        expect(r.flags).not.toContain("ra");
        expect(r.answer).toHaveLength(1);
        expect(r.answer[0]?.slice(3, 6)).toEqual(["SOA", `ns1.${ZONE}.`, "hostmaster.example.test."]);
      });

      it("answers NS with glue", async () => {
        const r = await dig(dns.port, transport, ZONE, "NS");
        expect(dataOf(r.answer)).toEqual([`ns1.${ZONE}.`, `ns2.${ZONE}.`]);
        expect(dataOf(r.additional.filter((row) => row[3] !== "OPT" && row[0] !== ";"))).toEqual([
          "192.0.2.1",
          "192.0.2.2",
          "2001:db8::1",
        ]);
      });

      it("answers an app's A records with the configured TTL, and follows a CNAME to it", async () => {
        const r = await dig(dns.port, transport, `web.${ZONE}`, "A");
        expect(dataOf(r.answer)).toEqual(["127.0.0.2", "127.0.0.3"]);
        expect(r.answer.every((row) => row[1] === "10")).toBe(true);
        const www = await dig(dns.port, transport, `www.${ZONE}`, "A");
        expect(www.answer.map((row) => row[3])).toEqual(["CNAME", "A", "A"]);
      });

      it("answers NXDOMAIN and NODATA with the SOA in authority, TTL = SOA minimum", async () => {
        const nx = await dig(dns.port, transport, `nope.${ZONE}`, "A");
        expect(nx.status).toBe("NXDOMAIN");
        expect(nx.flags).toContain("aa");
        expect(nx.authority[0]?.[3]).toBe("SOA");
        expect(nx.authority[0]?.[1]).toBe("45");
        const nodata = await dig(dns.port, transport, `web.${ZONE}`, "AAAA");
        expect(nodata.status).toBe("NOERROR");
        expect(nodata.answer).toHaveLength(0);
        expect(nodata.authority[0]?.[3]).toBe("SOA");
      });

      it("refuses names outside the zone", async () => {
        const r = await dig(dns.port, transport, "example.com", "A");
        expect(r.status).toBe("REFUSED");
        expect(r.flags).not.toContain("aa");
      });

      it("answers BADVERS to EDNS version 1", async () => {
        const r = await dig(dns.port, transport, "+edns=1", "+noednsneg", `web.${ZONE}`, "A");
        expect(r.status).toBe("BADVERS");
      });
    });
  }

  it("sets TC on a small UDP buffer and gives the same answer in full over TCP", async () => {
    const many = Array.from({ length: 40 }, (_, i) => instance(String(100 + i), "healthy", [`127.0.2.${i + 1}`]));
    status.status = (res) => res.end(JSON.stringify(appStatus(many)));
    await dns.refresh();
    for (const args of [["+noedns"], ["+bufsize=512"]]) {
      const udp = await dig(dns.port, "+notcp", "+ignore", ...args, `big.${ZONE}`, "A");
      expect(udp.flags).toContain("tc");
      expect(udp.answer).toHaveLength(0);
    }
    const tcp = await dig(dns.port, "+tcp", `big.${ZONE}`, "A");
    expect(tcp.flags).not.toContain("tc");
    expect(tcp.answer).toHaveLength(32); // maxAddresses
    // Without +ignore dig retries over TCP by itself, as a resolver does.
    const retried = await dig(dns.port, "+noedns", `big.${ZONE}`, "A");
    expect(retried.answer).toHaveLength(32);
    expect(retried.stdout).toContain("Truncated, retrying in TCP mode");
  });

  it("drops an instance that goes failing from A within a poll interval; TXT keeps every lease", async () => {
    status.status = appStatus([instance("7", "healthy", ["127.0.0.2"]), instance("8", "healthy", ["127.0.0.3"])]);
    await dns.refresh();
    expect(dataOf((await dig(dns.port, `web.${ZONE}`, "A")).answer)).toEqual(["127.0.0.2", "127.0.0.3"]);
    status.status = appStatus([instance("7", "healthy", ["127.0.0.2"]), instance("8", "failing", ["127.0.0.3"])]);
    const changed = Date.now();
    let answer: string[] = [];
    while (Date.now() - changed < 2000) {
      answer = dataOf((await dig(dns.port, `web.${ZONE}`, "A")).answer);
      if (answer.length === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(answer).toEqual(["127.0.0.2"]);
    // One poll interval (0.2 s) plus the fetch and dig's own start, on a shared machine.
    expect(Date.now() - changed).toBeLessThan(1500);
    const txt = await dig(dns.port, `_podnet-lease.web.${ZONE}`, "TXT");
    expect(dataOf(txt.answer)).toEqual(['"lease=31337:7"', '"lease=31337:8"']);
  });
});
