/**
 * The admin API in a real worker process (`podnet-worker run` on a devnet chain, with the Docker Engine it needs to
 * start): it listens on its own loopback port, apart from the provider API; `podnet-worker console` (another process)
 * prints a link the running worker accepts once; the session reads the overview; and neither the worker's log nor its
 * data dir holds the link token, the session id or the CSRF token. With a real pod: its logs come from Docker, its
 * live use from the usage sampler while the event stream is open, and stopping it from the console removes its
 * containers and closes the lease on chain.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  filesUnder,
  fundedPublisher,
  ingress,
  type LocalChain,
  leaseContainers,
  localDocker,
  type RunningProvider,
  readMarket,
  removeProviderLeftovers,
  sealTestImage,
  startLocalChain,
  startProvider,
  waitFor,
  workerBin,
} from "@podnet/devnet";
import type { PodManifestInput } from "@podnet/sdk/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAdminOrigin } from "../worker/src/admin/origin-file.js";

const dir = mkdtempSync(join(tmpdir(), "podnet-admin-worker-"));
let chain: LocalChain;
let provider: RunningProvider;

beforeAll(async () => {
  chain = await startLocalChain(join(dir, "chain"));
  provider = await startProvider(chain, {
    index: 62,
    dataDir: join(dir, "worker"),
    env: { PODNET_USAGE_SAMPLE_SEC: "1" },
  });
}, 240_000);

afterAll(async () => {
  await provider?.worker.stop();
  // Its warm networks and their infra containers: this file starts no Devnet, whose stop would remove them.
  if (provider) await removeProviderLeftovers(localDocker(), provider.address);
  chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("admin API of a running worker", () => {
  it("signs in with a link from `podnet-worker console`, once, and keeps no secret in its log or data dir", async () => {
    const origin = readAdminOrigin(provider.worker.dataDir) as string;
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(origin).not.toBe(new URL(provider.worker.apiUrl).origin);
    // The provider API does not serve the admin routes.
    expect((await fetch(`${provider.worker.apiUrl}/admin/v1/overview`)).status).toBe(404);

    const { stdout } = await promisify(execFile)(process.execPath, [workerBin, "console"], { env: provider.env });
    const link = /(http:\/\/\S+\/admin\/sign-in)#token=([\w-]+)/.exec(stdout);
    expect(link?.[1]).toBe(`${origin}/admin/sign-in`);
    const token = link?.[2] as string;
    const page = await fetch(link?.[1] as string);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self' 'sha256-/);

    const signIn = (t: string) =>
      fetch(`${origin}/admin/v1/sign-in/link`, {
        method: "POST",
        headers: { origin, "content-type": "application/json" },
        body: JSON.stringify({ token: t }),
      });
    const first = await signIn(token);
    expect(first.status).toBe(200);
    const sessionId = /podnet_admin=([^;]+)/.exec(first.headers.get("set-cookie") ?? "")?.[1] as string;
    const { csrfToken } = (await first.json()) as { csrfToken: string };
    expect((await signIn(token)).status).toBe(401);

    const overview = await fetch(`${origin}/admin/v1/overview`, { headers: { cookie: `podnet_admin=${sessionId}` } });
    expect(overview.status).toBe(200);
    expect(await overview.json()).toMatchObject({
      provider: provider.address,
      registration: { registered: true, status: "active" },
      token: { address: chain.deployment.contracts.paymentToken.address, decimals: 18 },
      health: { docker: "ok" },
    });

    const log = readFileSync(provider.worker.logFile, "utf8");
    expect(log).toContain("admin: signed in");
    const files = [...filesUnder(provider.worker.dataDir).values()].map((bytes) => bytes.toString("latin1"));
    for (const secret of [token, sessionId, csrfToken]) {
      expect(log).not.toContain(secret);
      for (const content of files) expect(content).not.toContain(secret);
    }
  });

  it("shows a real pod's logs and live use, and stops it: containers removed, lease closed on chain", async () => {
    const origin = readAdminOrigin(provider.worker.dataDir) as string;
    const { stdout } = await promisify(execFile)(process.execPath, [workerBin, "console"], { env: provider.env });
    const token = /#token=([\w-]+)/.exec(stdout)?.[1] as string;
    const signIn = await fetch(`${origin}/admin/v1/sign-in/link`, {
      method: "POST",
      headers: { origin, "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    const cookie = `podnet_admin=${/podnet_admin=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")?.[1]}`;
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    const get = async (path: string) => fetch(`${origin}${path}`, { headers: { cookie } });

    const docker = localDocker();
    const image = await sealTestImage(docker, "podnet-test/admin-web:v1", { page: "admin console pod" });
    const publisher = await fundedPublisher(chain, 61);
    const manifest: PodManifestInput = {
      version: 1,
      containers: [
        {
          name: "web",
          image: `blob:${image.cid}`,
          // -vv: busybox httpd logs every request's path.
          command: ["httpd", "-f", "-vv", "-p", "8080", "-h", "/www"],
          resources: { cpuMillis: 250, memoryMiB: 64, pids: 64 },
        },
      ],
      expose: { http: [{ container: "web", port: 8080 }] },
    };
    const { apiUrl } = provider.worker;
    const { leaseId } = await publisher.lease(apiUrl, manifest, 3600n);
    await publisher.uploadBlob(apiUrl, provider.address, leaseId, image.cid, image.ciphertext);
    const sent = await publisher.sendManifest(apiUrl, provider.address, provider.encryptionKey, leaseId, manifest, {
      [image.cid]: image.key,
    });
    expect(sent.status).toBe(202);
    await provider.worker.waitForPage(leaseId, "admin console pod");

    // Logs from Docker: a request through the ingress is in httpd's log.
    await ingress(provider.worker.ingressPort, `l${leaseId}.pods.localhost`, "/admin-marker");
    const logs = await waitFor("the request in the pod's log", async () => {
      const res = await get(`/admin/v1/leases/${leaseId}/logs?tail=50`);
      const { lines } = (await res.json()) as {
        lines: { container: string; stream: string; at: number; text: string }[];
      };
      return lines.some((l) => l.text.includes("/admin-marker")) ? lines : undefined;
    });
    expect(logs[0]).toMatchObject({ container: "web", stream: expect.stringMatching(/^std(out|err)$/) });
    expect(logs.every((l) => typeof l.at === "number" && l.at > Date.UTC(2020, 0, 1))).toBe(true);
    expect((await get(`/admin/v1/leases/${leaseId}/logs?tail=0`)).status).toBe(400);

    // Live use: with the event stream open, the sampler reads the pod every second.
    const abort = new AbortController();
    const stream = await fetch(`${origin}/admin/v1/events?topics=usage`, { headers: { cookie }, signal: abort.signal });
    try {
      const leases = await waitFor("a usage sample of the pod", async () => {
        const { usage } = (await (await get("/admin/v1/capacity")).json()) as {
          usage: { leases: Record<string, { cpuMillis: number; memoryMiB: number }> };
        };
        return usage.leases[leaseId.toString()] ? usage.leases : undefined;
      });
      expect(leases[leaseId.toString()]?.memoryMiB).toBeGreaterThan(0);
    } finally {
      abort.abort();
      await stream.body?.cancel().catch(() => undefined);
    }
    const { leases } = (await (await get("/admin/v1/leases")).json()) as {
      leases: { id: string; phase: string; accrued: string; usage: unknown }[];
    };
    expect(leases.find((l) => l.id === leaseId.toString())).toMatchObject({ phase: "running" });

    // Stop from the console: the pod's containers go, the lease closes on chain.
    const stopped = await fetch(`${origin}/admin/v1/leases/${leaseId}/stop`, {
      method: "POST",
      headers: { cookie, origin, "x-csrf-token": csrfToken, "content-type": "application/json" },
      body: JSON.stringify({ reason: "maintenance of the host" }),
    });
    expect(stopped.status, await stopped.clone().text()).toBe(200);
    expect(await leaseContainers(docker, provider.address, leaseId)).toEqual([]);
    const onChain = await readMarket<{ status: number }>(chain, "getLease", [leaseId]);
    expect(onChain.status).toBe(2);
    // The image the test built (the worker's own copy of the pod's image goes with its image collector).
    await docker
      .getImage("podnet-test/admin-web:v1")
      .remove({ noprune: true })
      .catch(() => undefined);
  }, 240_000);
});
