import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import * as packet from "dns-packet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DnsConfigInput } from "./config.js";
import { type DnsServer, startDnsServer } from "./server.js";
import {
  appStatus,
  decodeReply,
  frame,
  instance,
  query,
  type StatusServer,
  startStatusServer,
  tcpClosedAfter,
  tcpExchange,
  udpQuery,
  udpRaw,
} from "./test-helpers.js";

const ZONE = "apps.test";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const baseConfig = (statusUrl: string, extra: Partial<DnsConfigInput> = {}): DnsConfigInput => ({
  zone: ZONE,
  listen: { host: "127.0.0.1", port: 0 },
  nameservers: [{ name: `ns1.${ZONE}`, addresses: ["192.0.2.53"] }],
  soa: { rname: "hostmaster@example.test", minimum: 30 },
  ingressPort: 8080,
  allowPrivateAddresses: true,
  apps: [{ name: "web", statusUrls: [statusUrl] }],
  pollIntervalSec: 0.1,
  tcp: { idleTimeoutMs: 300, maxConnections: 4 },
  ...extra,
});

const rcodeOf = (raw: Buffer) => raw.readUInt16BE(2) & 0xf;

describe("podnet-dns against hostile and unlucky input", () => {
  let status: StatusServer;
  let dns: DnsServer;
  beforeAll(async () => {
    status = await startStatusServer(appStatus([instance("1", "healthy", ["127.0.0.2"])]));
    dns = await startDnsServer({ config: baseConfig(status.url), log: quiet });
  });
  afterAll(async () => {
    await dns?.close();
    await status?.close();
  });

  const stillAnswers = async () => {
    const { answer } = await udpQuery(dns.port, `web.${ZONE}`);
    expect(answer.rcode).toBe("NOERROR");
    expect(answer.answers?.map((a) => a.data)).toEqual(["127.0.0.2"]);
  };

  it("survives random garbage, and never answers more than 512 bytes to it", async () => {
    for (let i = 0; i < 300; i++) {
      const raw = await udpRaw(dns.port, randomBytes(1 + (i % 80)), 30);
      if (raw) expect(raw.length).toBeLessThanOrEqual(512);
    }
    await stillAnswers();
  });

  it("answers FORMERR to a truncated query, nothing to a packet shorter than a header", async () => {
    const full = query(`web.${ZONE}`);
    const cut = await udpRaw(dns.port, full.subarray(0, full.length - 6));
    expect(cut && rcodeOf(cut)).toBe(1);
    expect(await udpRaw(dns.port, full.subarray(0, 11), 200)).toBeUndefined();
    await stillAnswers();
  });

  it("answers FORMERR to a compression pointer loop in the question", async () => {
    const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    // The name at offset 12 points to offset 12: a decoder following it naively never ends.
    const self = Buffer.concat([header, Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
    // Two labels pointing at each other, forward and back.
    const pair = Buffer.concat([header, Buffer.from([0xc0, 0x0e, 0xc0, 0x0c, 0, 1, 0, 1])]);
    for (const message of [self, pair]) {
      const raw = await udpRaw(dns.port, message);
      expect(raw && rcodeOf(raw)).toBe(1);
    }
    await stillAnswers();
  });

  it("answers FORMERR unless there is exactly one question", async () => {
    const two = packet.encode({
      id: 7,
      type: "query",
      questions: [
        { name: `web.${ZONE}`, type: "A" },
        { name: `web.${ZONE}`, type: "AAAA" },
      ],
    });
    const none = packet.encode({ id: 8, type: "query", questions: [] });
    for (const message of [two, none]) {
      const raw = await udpRaw(dns.port, message);
      expect(raw && rcodeOf(raw)).toBe(1);
      expect(raw?.readUInt16BE(4)).toBe(0);
    }
  });

  it("does not answer responses (no loops between servers), NOTIMP for other opcodes", async () => {
    const response = query(`web.${ZONE}`);
    response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2);
    expect(await udpRaw(dns.port, response, 200)).toBeUndefined();
    const update = query(`web.${ZONE}`, { flags: 5 << 11 });
    const raw = await udpRaw(dns.port, update);
    expect(raw && rcodeOf(raw)).toBe(4);
  });

  it("answers ANY with one small synthesized record (RFC 8482)", async () => {
    const { answer } = await udpQuery(dns.port, ZONE, { type: "ANY", edns: 4096 });
    expect(answer.rcode).toBe("NOERROR");
    expect(answer.answers).toHaveLength(1);
    expect(answer.answers?.[0]).toMatchObject({ type: "HINFO", data: { cpu: "RFC8482" } });
  });

  it("treats an EDNS buffer below 512 as 512, and never exceeds its own maximum", async () => {
    const small = await udpQuery(dns.port, ZONE, { type: "NS", edns: 10 });
    expect(small.answer.rcode).toBe("NOERROR");
    expect(small.raw.length).toBeLessThanOrEqual(512);
  });

  it("closes a TCP connection whose length prefix promises more than arrives", async () => {
    const message = query(`web.${ZONE}`);
    const ms = await tcpClosedAfter(dns.port, (socket) => socket.write(frame(message).subarray(0, 10)), 3000);
    expect(ms).toBeLessThan(1500);
  });

  it("closes a slow client that sends one byte at a time, and an idle one", async () => {
    const message = frame(query(`web.${ZONE}`));
    let timer: NodeJS.Timeout | undefined;
    const slow = await tcpClosedAfter(
      dns.port,
      (socket) => {
        let at = 0;
        // Faster than the idle timeout, so only a deadline for the whole message stops it.
        timer = setInterval(() => {
          if (at < message.length && !socket.destroyed) socket.write(message.subarray(at, ++at));
        }, 100);
      },
      3000,
    ).finally(() => clearInterval(timer));
    expect(slow).toBeLessThan(1500);
    const idle = await tcpClosedAfter(dns.port, () => undefined, 3000);
    expect(idle).toBeLessThan(1500);
  });

  it("closes connections over the limit at once and serves the ones within it", async () => {
    const open: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const socket = connect(dns.port, "127.0.0.1");
        socket.on("error", () => undefined);
        await new Promise((resolve) => socket.once("connect", resolve));
        open.push(socket);
      }
      const extra = await tcpClosedAfter(dns.port, () => undefined, 3000);
      expect(extra).toBeLessThan(250);
    } finally {
      for (const socket of open) socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [answer] = await tcpExchange(dns.port, frame(query(`web.${ZONE}`)), 1);
    expect(decodeReply(answer as Buffer).answers?.map((a) => a.data)).toEqual(["127.0.0.2"]);
  });

  it("answers pipelined TCP queries in order, and a zero-length message ends the connection", async () => {
    const names = [`web.${ZONE}`, `nope.${ZONE}`, "example.com"];
    const answers = await tcpExchange(dns.port, Buffer.concat(names.map((n) => frame(query(n)))), 3);
    expect(answers.map((a) => decodeReply(a).rcode)).toEqual(["NOERROR", "NXDOMAIN", "REFUSED"]);
    const ms = await tcpClosedAfter(dns.port, (socket) => socket.write(Buffer.from([0, 0])), 3000);
    expect(ms).toBeLessThan(250);
  });
});

describe("podnet-dns records from status URLs", () => {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0).reverse()) await server.close();
  });
  const track = <T extends { close(): Promise<void> }>(server: T) => {
    servers.push(server);
    return server;
  };

  it("answers only public provider addresses unless private ones are allowed", async () => {
    const published = [
      "127.0.0.2",
      "10.1.2.3",
      "192.168.1.1",
      "169.254.169.254",
      "224.0.0.1",
      "0.0.0.0",
      "1.2.3.4",
      "::1",
      "fe80::1",
      "ff02::1",
      "::",
      "2a00:1450:4001::1",
    ];
    const status = track(await startStatusServer(appStatus([instance("1", "healthy", published)])));
    const strict = track(
      await startDnsServer({ config: baseConfig(status.url, { allowPrivateAddresses: false }), log: quiet }),
    );
    const a = await udpQuery(strict.port, `web.${ZONE}`);
    expect(a.answer.answers?.map((rr) => rr.data)).toEqual(["1.2.3.4"]);
    const aaaa = await udpQuery(strict.port, `web.${ZONE}`, { type: "AAAA" });
    expect(aaaa.answer.answers?.map((rr) => rr.data)).toEqual(["2a00:1450:4001::1"]);
    const lax = track(await startDnsServer({ config: baseConfig(status.url), log: quiet }));
    const all = await udpQuery(lax.port, `web.${ZONE}`);
    expect(all.answer.answers?.map((rr) => rr.data)).toContain("127.0.0.2");
  });

  it("answers the routable instances on the ingress port, each address once; TXT proves every lease", async () => {
    const status = track(
      await startStatusServer(
        appStatus([
          instance("1", "healthy", ["127.0.0.2"]),
          instance("2", "healthy", ["127.0.0.2", "127.0.0.3"]),
          instance("3", "failing", ["127.0.0.4"]),
          instance("4", "healthy", ["127.0.0.5"], 9999),
        ]),
      ),
    );
    const dns = track(await startDnsServer({ config: baseConfig(status.url), log: quiet }));
    const a = await udpQuery(dns.port, `web.${ZONE}`);
    expect(a.answer.answers?.map((rr) => rr.data).sort()).toEqual(["127.0.0.2", "127.0.0.3"]);
    const txt = await udpQuery(dns.port, `_podnet-lease.web.${ZONE}`, { type: "TXT" });
    expect(txt.answer.answers?.map((rr) => String((rr.data as Buffer[])[0])).sort()).toEqual([
      "lease=31337:1",
      "lease=31337:2",
      "lease=31337:3",
      "lease=31337:4",
    ]);
  });

  it("rotates an app's addresses from one answer to the next (clients that take the first spread over instances)", async () => {
    const status = track(
      await startStatusServer(
        appStatus([
          instance("1", "healthy", ["127.0.0.2"]),
          instance("2", "healthy", ["127.0.0.3"]),
          instance("3", "healthy", ["127.0.0.4"]),
        ]),
      ),
    );
    const dns = track(await startDnsServer({ config: baseConfig(status.url), log: quiet }));
    const firsts = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const { answer } = await udpQuery(dns.port, `web.${ZONE}`);
      const data = answer.answers?.map((rr) => String(rr.data)) ?? [];
      expect([...data].sort()).toEqual(["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
      firsts.set(data[0] as string, (firsts.get(data[0] as string) ?? 0) + 1);
    }
    // Every address leads equally often: a strict rotation.
    expect([...firsts.values()]).toEqual([10, 10, 10]);
  });

  it("keeps answering at once while a status URL hangs, answers junk or an endless body", async () => {
    const status = track(await startStatusServer(appStatus([instance("1", "healthy", ["127.0.0.2"])])));
    const dns = track(await startDnsServer({ config: baseConfig(status.url, { statusTimeoutMs: 500 }), log: quiet }));
    const modes: StatusServer["status"][] = [
      () => undefined, // never answers
      (res) => res.end("<html>not json</html>"),
      (res) => res.end(JSON.stringify({ chainId: "x" })),
      (res) => {
        // No content-length, an endless body: the reader must stop at its limit.
        const chunk = Buffer.alloc(1 << 16, 0x20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once("drain", pump);
        };
        res.setHeader("content-type", "application/json");
        pump();
      },
    ];
    const rssBefore = process.memoryUsage().rss;
    for (const mode of modes) {
      status.status = mode;
      const before = status.requests;
      const deadline = Date.now() + 3000;
      while (status.requests < before + 2 && Date.now() < deadline) {
        const started = performance.now();
        const { answer } = await udpQuery(dns.port, `web.${ZONE}`);
        // Well under the 500 ms a query waiting on the status fetch would take; loose enough for a busy machine.
        expect(performance.now() - started).toBeLessThan(250);
        expect(answer.answers?.map((rr) => rr.data)).toEqual(["127.0.0.2"]);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(status.requests).toBeGreaterThanOrEqual(before + 2);
    }
    // The endless body was cut at the status reader's 4 MiB, not buffered for as long as it kept coming.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 2 ** 20);
  });

  it("drops a dead status URL's records once they are stale, and takes them back when it answers", async () => {
    const status = track(await startStatusServer(appStatus([instance("1", "healthy", ["127.0.0.2"])])));
    const dns = track(await startDnsServer({ config: baseConfig(status.url, { staleAfterSec: 1 }), log: quiet }));
    status.status = (res) => res.destroy();
    const started = Date.now();
    while ((await udpQuery(dns.port, `web.${ZONE}`)).answer.answers?.length) {
      expect(Date.now() - started).toBeLessThan(3000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const gone = await udpQuery(dns.port, `web.${ZONE}`);
    expect(gone.answer.rcode).toBe("NOERROR");
    expect(gone.answer.authorities?.[0]?.type).toBe("SOA");
    status.status = appStatus([instance("1", "healthy", ["127.0.0.2"])]);
    await dns.refresh();
    expect((await udpQuery(dns.port, `web.${ZONE}`)).answer.answers?.map((rr) => rr.data)).toEqual(["127.0.0.2"]);
  });

  it("merges several autoscaler nodes: every instance, each with the best health any node saw", async () => {
    const one = track(
      await startStatusServer(
        appStatus([instance("1", "failing", ["127.0.0.2"]), instance("2", "healthy", ["127.0.0.3"])]),
      ),
    );
    const two = track(
      await startStatusServer(
        appStatus([instance("1", "healthy", ["127.0.0.2"]), instance("5", "starting", ["127.0.0.6"])]),
      ),
    );
    const config = baseConfig(one.url, { apps: [{ name: "web", statusUrls: [one.url, two.url] }] });
    const dns = track(await startDnsServer({ config, log: quiet }));
    const a = await udpQuery(dns.port, `web.${ZONE}`);
    expect(a.answer.answers?.map((rr) => rr.data).sort()).toEqual(["127.0.0.2", "127.0.0.3"]);
    const txt = await udpQuery(dns.port, `_podnet-lease.web.${ZONE}`, { type: "TXT" });
    expect(txt.answer.answers).toHaveLength(3);
  });

  it("never sends a UDP answer bigger than the requester allows", async () => {
    const many = Array.from({ length: 30 }, (_, i) => instance(String(i + 1), "healthy", [`127.0.1.${i + 1}`]));
    const status = track(await startStatusServer(appStatus(many)));
    const dns = track(await startDnsServer({ config: baseConfig(status.url, { maxUdpPayload: 1232 }), log: quiet }));
    for (const edns of [undefined, 512, 600, 4096, 65535]) {
      const { raw, answer } = await udpQuery(dns.port, `_podnet-lease.web.${ZONE}`, { type: "TXT", edns });
      expect(raw.length).toBeLessThanOrEqual(edns === undefined ? 512 : Math.min(Math.max(edns, 512), 1232));
      expect(answer.flag_tc).toBe(true);
      expect(answer.answers).toHaveLength(0);
    }
    const [full] = await tcpExchange(dns.port, frame(query(`_podnet-lease.web.${ZONE}`, { type: "TXT" })), 1);
    expect(decodeReply(full as Buffer).answers).toHaveLength(30);
  });
});
