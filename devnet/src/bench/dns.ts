/**
 * podnet-dns under benchmark (npm run bench, bench:dns): the real `podnet-dns run` child process serving an app zone
 * whose app answers from a real HTTP `/status` (3 healthy instances on 127.0.0.2-4), then
 *  1. throughput: Debian's dnsperf, one process over UDP, as fast as answers come (100 queries outstanding), a mix of
 *     the app's A, its lease TXT, the apex SOA and NS, and a name that does not exist;
 *  2. latency at a fixed rate: a Node client in this process sending 2,000 queries/s over UDP (10 every 5 ms) and
 *     timing each answer by its id (p50 / p99 / max).
 * Both figures include the client's own time on the same 2 shared cores.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as packet from "dns-packet";
import { freePort } from "../net.js";
import { repoRoot } from "../paths.js";
import { atMost, fmt, goalCells, met, now, percentile, sleep } from "./stats.js";

const ZONE = "apps.bench";
const APP = "web";
export const DNS_GOALS = { qps: 10_000, p99Ms: 5, rate: 2_000 } as const;
const dnsBin = join(repoRoot, "autoscaler", "bin", "podnet-dns.mjs");

export type DnsResult = {
  qps: number;
  /** dnsperf's own figures for the throughput run. */
  sent: number;
  lost: number;
  seconds: number;
  rate: { sent: number; answered: number; p50: number; p99: number; max: number; seconds: number };
};

const status = {
  vault: "0x00000000000000000000000000000000000000aa",
  chainId: 31337,
  desired: 3,
  instances: [2, 3, 4].map((n) => ({
    slot: n,
    leaseId: String(n),
    provider: "0x00000000000000000000000000000000000000bb",
    hostUrl: null,
    tcp: null,
    ingress: { addresses: [`127.0.0.${n}`], port: 80 },
    health: "healthy",
    lastProbe: null,
  })),
  problems: [],
  lastPass: null,
};

/** Asks `name` once over UDP; resolves with the answer's rcode, or undefined after `waitMs`. */
function ask(port: number, name: string, waitMs = 500): Promise<string | undefined> {
  const socket = createSocket("udp4");
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(undefined), waitMs);
    const finish = (rcode: string | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(rcode);
    };
    socket.on("message", (raw) => finish((packet.decode(raw) as { rcode?: string }).rcode));
    socket.on("error", () => finish(undefined));
    socket.send(packet.encode({ id: 1, type: "query", questions: [{ name, type: "A" }] }), port, "127.0.0.1");
  });
}

/** Sends `rate` queries/s for `seconds` from one UDP socket and times each answer. */
async function measureRate(port: number, rate: number, seconds: number): Promise<DnsResult["rate"]> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  socket.on("message", (raw) => {
    const at = now();
    const id = raw.readUInt16BE(0);
    const start = sentAt.get(id);
    if (start === undefined) return;
    sentAt.delete(id);
    latencies.push(at - start);
  });
  const queries = Array.from({ length: 65536 }, (_, id) =>
    packet.encode({ id, type: "query", questions: [{ name: `${APP}.${ZONE}`, type: "A" }] }),
  );
  const perTick = Math.round((rate * 5) / 1000);
  const started = now();
  let sent = 0;
  const total = rate * seconds;
  while (sent < total) {
    // Catch up with the schedule (timers on a busy machine fire late), so the offered rate is the asked one.
    const due = Math.min(total, Math.floor(((now() - started) / 1000) * rate) + perTick);
    while (sent < due) {
      const id = sent % 65536;
      sentAt.set(id, now());
      socket.send(queries[id] as Buffer, port, "127.0.0.1");
      sent++;
    }
    await sleep(5);
  }
  await sleep(500);
  socket.close();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    sent,
    answered: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    seconds: (now() - started) / 1000,
  };
}

/** Runs dnsperf for `seconds` against the server; its "Queries per second" line and counts. */
async function dnsperf(port: number, dir: string, seconds: number) {
  const queryFile = join(dir, "queries.txt");
  writeFileSync(
    queryFile,
    [
      `${APP}.${ZONE} A`,
      `${APP}.${ZONE} A`,
      `${APP}.${ZONE} A`,
      `_podnet-lease.${APP}.${ZONE} TXT`,
      `${ZONE} SOA`,
      `${ZONE} NS`,
      `nothing.${ZONE} A`,
    ].join("\n"),
  );
  const { stdout } = await promisify(execFile)("dnsperf", [
    "-s",
    "127.0.0.1",
    "-p",
    String(port),
    "-d",
    queryFile,
    "-l",
    String(seconds),
    "-q",
    "100",
    "-c",
    "1",
  ]);
  const figure = (label: string) => Number(new RegExp(`${label}:\\s+([0-9.]+)`).exec(stdout)?.[1] ?? Number.NaN);
  return {
    qps: figure("Queries per second"),
    sent: figure("Queries sent"),
    lost: figure("Queries lost"),
  };
}

/** Starts podnet-dns and its status server, measures, and stops both. */
export async function measureDns(options: { seconds?: number; progress?: (m: string) => void } = {}) {
  const seconds = options.seconds ?? 10;
  const progress = options.progress ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-dns-"));
  const http = createServer((_req, res) => res.end(JSON.stringify(status)));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const statusUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}/status`;
  const port = await freePort();
  const configFile = join(dir, "dns.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      zone: ZONE,
      listen: { host: "127.0.0.1", port },
      nameservers: [{ name: `ns1.${ZONE}`, addresses: ["127.0.0.1"] }],
      soa: { rname: `hostmaster@${ZONE}` },
      allowPrivateAddresses: true,
      apps: [{ name: APP, statusUrls: [statusUrl] }],
      logLevel: "warn",
    }),
  );
  const logFile = join(dir, "podnet-dns.log");
  const out = openSync(logFile, "a");
  const child: ChildProcess = spawn(process.execPath, [dnsBin, "run", "--config", configFile], {
    cwd: repoRoot,
    stdio: ["ignore", out, out],
  });
  try {
    const deadline = now() + 30_000;
    while ((await ask(port, `${APP}.${ZONE}`)) !== "NOERROR") {
      if (child.exitCode !== null || now() > deadline) {
        throw new Error(`podnet-dns did not answer: ${readFileSync(logFile, "utf8").slice(-2000)}`);
      }
      await sleep(100);
    }
    progress(`podnet-dns answering on 127.0.0.1:${port}`);
    const perf = await dnsperf(port, dir, seconds);
    progress(`dnsperf: ${fmt(perf.qps)} queries/s (${fmt(perf.sent)} sent, ${fmt(perf.lost)} lost)`);
    const rate = await measureRate(port, DNS_GOALS.rate, seconds);
    progress(`${fmt(DNS_GOALS.rate)} queries/s: p50 ${fmt(rate.p50, 2)} ms, p99 ${fmt(rate.p99, 2)} ms`);
    return { ...perf, seconds, rate } satisfies DnsResult;
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve)));
    http.closeAllConnections();
    http.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report rows of a {@link measureDns}. */
export function dnsRows(r: DnsResult): string[] {
  return [
    `| podnet-dns: queries/s over UDP from one dnsperf process, ${r.seconds} s, 100 outstanding (${fmt(r.sent)} sent, ${fmt(r.lost)} lost) | ${fmt(r.qps)} /s | >= ${fmt(DNS_GOALS.qps)} /s | ${met(r.qps >= DNS_GOALS.qps)} |`,
    `| podnet-dns: latency at ${fmt(DNS_GOALS.rate)} queries/s over UDP, p50 / p99 / max (${fmt(r.rate.answered)} of ${fmt(r.rate.sent)} answered) | ${fmt(r.rate.p50, 2)} / ${fmt(r.rate.p99, 2)} / ${fmt(r.rate.max, 2)} ms | ${goalCells(atMost(r.rate, { p99: DNS_GOALS.p99Ms }, " ms"))} |`,
  ];
}
