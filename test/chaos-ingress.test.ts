/**
 * Floods and slow peers against a real worker (its own process, a real pod in Docker, a real chain): 5,000 upgraded
 * connections held open through the ingress to a pod that accepts them, a slowloris on the API, and more log
 * follows than a lease may hold. The worker runs with an open-file limit of 4,096 (a common default hard limit) and is
 * told not to raise it, so the descriptor budget is what keeps it alive, not a large limit.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Devnet,
  fundedPublisher,
  ingress,
  localDocker,
  type Publisher,
  podHost,
  type RunningProvider,
  sealTestImage,
} from "@podnet/devnet";
import { providerApiPaths, signRequest } from "@podnet/sdk/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docker = localDocker();
const NOFILE = 4096;
const SOCKETS = 5_000;
const HEADERS_TIMEOUT_MS = 2_000;
const PAGE = "upgrade pod";
/** A CGI that answers an upgrade with 101 and then holds the connection open without a word (an idle WebSocket). */
const UPGRADE_CGI = `#!/bin/sh
printf 'HTTP/1.1 101 Switching Protocols\\r\\nConnection: Upgrade\\r\\nUpgrade: echo\\r\\n\\r\\n'
exec sleep 600
`;

let devnet: Devnet;
let provider: RunningProvider;
let publisher: Publisher;
let leaseId: bigint;

/** Open descriptors of the worker process and its limit, from /proc. */
function workerFds(): { open: number; limit: number } {
  const pid = provider.worker.process.pid as number;
  const limits = readFileSync(`/proc/${pid}/limits`, "utf8");
  const limit = Number(limits.match(/Max open files\s+(\d+)/)?.[1]);
  return { open: readdirSync(`/proc/${pid}/fd`).length, limit };
}

/** GET /health with a deadline: its status and how long it took (status 0: no answer in time). */
async function timedHealth(deadlineMs = 2_000): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const response = await fetch(`${provider.worker.apiUrl}/health`, { signal: AbortSignal.timeout(deadlineMs) }).catch(
    () => undefined,
  );
  await response?.arrayBuffer();
  return { status: response?.status ?? 0, ms: performance.now() - t0 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  devnet = await Devnet.start({ dir: mkdtempSync(join(tmpdir(), "podnet-chaos-ingress-")) });
  const image = await sealTestImage(docker, "podnet-test/upgrade:1", {
    files: { "/www/index.html": PAGE, "/www/cgi-bin/up": UPGRADE_CGI },
    executables: ["/www/cgi-bin/up"],
  });
  devnet.untagBlobOnStop(image.cid);
  provider = await devnet.startProvider({
    index: 107,
    capacity: { cpuMillis: 4000, memoryMiB: 4096, storageMiB: 100_000 },
    nofile: NOFILE,
    env: { PODNET_NOFILE: String(NOFILE), PODNET_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) },
  });
  publisher = await fundedPublisher(devnet.chain, 2);
  const manifest = {
    version: 1 as const,
    containers: [
      {
        name: "web",
        image: `blob:${image.cid}`,
        // Two processes per held connection (httpd's child and the CGI): room for the lease's upgrade cap.
        resources: { cpuMillis: 1000, memoryMiB: 256, pids: 4096 },
      },
    ],
    expose: { http: [{ container: "web", port: 8080 }] },
  };
  const lease = await publisher.lease(provider.worker.apiUrl, manifest, 3600n);
  leaseId = lease.leaseId;
  const upload = await publisher.uploadBlob(
    provider.worker.apiUrl,
    provider.address,
    leaseId,
    image.cid,
    image.ciphertext,
  );
  expect([200, 201]).toContain(upload.status);
  const sent = await publisher.sendManifest(
    provider.worker.apiUrl,
    provider.address,
    provider.encryptionKey,
    leaseId,
    manifest,
    {
      [image.cid]: image.key,
    },
  );
  expect(sent.status, await sent.clone().text()).toBe(202);
  await provider.worker.waitForPage(leaseId, PAGE);
}, 240_000);

afterAll(() => devnet?.stop());

describe("chaos: the ingress and the API under floods and slow peers", () => {
  it("holds 5,000 upgraded sockets without running out of descriptors; /health and the pod keep answering", async () => {
    const before = workerFds();
    expect(before.limit).toBe(NOFILE);
    const sockets: Socket[] = [];
    const outcome = { switched: 0, refused: 0, closed: 0 };
    const request = `GET /cgi-bin/up HTTP/1.1\r\nHost: ${podHost(leaseId)}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`;
    try {
      // In batches, as a client with many connections opens them; each sends its upgrade request and waits.
      for (let batch = 0; batch < SOCKETS / 500; batch++) {
        for (let i = 0; i < 500; i++) {
          const socket = connect(provider.worker.ingressPort, "127.0.0.1", () => socket.write(request));
          socket.once("data", (chunk: Buffer) => {
            const text = chunk.toString();
            if (text.startsWith("HTTP/1.1 101")) outcome.switched++;
            else if (text.startsWith("HTTP/1.1 503")) outcome.refused++;
          });
          socket.on("error", () => undefined);
          socket.on("close", () => outcome.closed++);
          sockets.push(socket);
        }
        await sleep(100);
      }
      // While they are held: the API answers promptly, every time, and the worker keeps descriptors in hand.
      const peak = { open: 0 };
      for (let i = 0; i < 10; i++) {
        const health = await timedHealth();
        expect(health.status, `health check ${i} while ${SOCKETS} sockets are held`).toBe(200);
        expect(health.ms).toBeLessThan(1_000);
        peak.open = Math.max(peak.open, workerFds().open);
        await sleep(300);
      }
      expect(peak.open).toBeLessThan(NOFILE - 256);
      // The pod still serves ordinary requests through the same ingress.
      const page = await ingress(provider.worker.ingressPort, podHost(leaseId), "/", { timeoutMs: 5_000 });
      expect(page.status).toBe(200);
      expect(page.body).toContain(PAGE);
      // The lease's upgrade cap (default 1,000) held the rest off: refused with 503, or closed at once by the
      // connection cap (some are still queued in the kernel's accept backlog, neither answered nor closed).
      const metrics = await (await fetch(`${provider.worker.apiUrl}/metrics`)).text();
      const upgraded = Number(metrics.match(/^podnet_worker_ingress_upgraded_connections (\d+)/m)?.[1]);
      expect(upgraded).toBeGreaterThan(0);
      expect(upgraded).toBeLessThanOrEqual(1_000);
      expect(outcome.switched).toBeLessThanOrEqual(1_000);
      expect(metrics).toMatch(
        /^podnet_worker_connections_refused_total\{listener="ingress",reason="upgrades-per-lease"\} [1-9]/m,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    // Closed by the clients, the pipes are released on the worker's side too (5,000 closes take a loaded machine a while).
    let after = workerFds().open;
    for (let i = 0; i < 150 && after > before.open + 64; i++) {
      await sleep(200);
      after = workerFds().open;
    }
    expect(after).toBeLessThanOrEqual(before.open + 64);
  }, 120_000);

  it("cuts a slowloris on the API at the header deadline, however steadily it trickles", async () => {
    const [host, port] = new URL(provider.worker.apiUrl).host.split(":") as [string, string];
    const socket = connect(Number(port), host);
    const started = Date.now();
    const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(Date.now() - started)));
    socket.on("error", () => undefined);
    socket.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\n`);
    const trickle = setInterval(() => socket.write("X-Slow: a\r\n"), 200);
    const lasted = await Promise.race([closed, sleep(4 * HEADERS_TIMEOUT_MS).then(() => -1)]);
    clearInterval(trickle);
    socket.destroy();
    expect(lasted, "the API never cut the trickling client").toBeGreaterThan(0);
    expect(lasted).toBeLessThan(HEADERS_TIMEOUT_MS + 1_500);
    // Meanwhile and afterwards, an honest request is answered.
    expect((await timedHealth()).status).toBe(200);
  }, 30_000);

  it("caps the log follows of one lease (429 past the cap) and frees a slot when a follower leaves", async () => {
    const path = `${providerApiPaths.logs(leaseId)}?container=web&follow=true&tail=1`;
    const follow = async () => {
      const controller = new AbortController();
      const headers = await signRequest(publisher.account, 31337, { provider: provider.address, method: "GET", path });
      const response = await fetch(`${provider.worker.apiUrl}${path}`, { headers, signal: controller.signal });
      return { response, stop: () => controller.abort() };
    };
    const open = [];
    for (let i = 0; i < 4; i++) {
      const f = await follow();
      expect(f.response.status, await (f.response.status === 200 ? "" : f.response.text())).toBe(200);
      open.push(f);
    }
    const fifth = await follow();
    expect(fifth.response.status).toBe(429);
    expect(await fifth.response.text()).toMatch(/follow: 4 streams are open for lease \d+, the most allowed/);

    open.shift()?.stop();
    let again = await follow();
    for (let i = 0; i < 20 && again.response.status === 429; i++) {
      await sleep(100);
      again = await follow();
    }
    expect(again.response.status).toBe(200);
    for (const f of [...open, again]) f.stop();
  }, 60_000);
});
