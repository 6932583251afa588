/**
 * Scale-to-zero on the provider (issue 17), on real parts: anvil with the real contracts, the worker as a child
 * process, the Docker Engine. Hostile cases: a burst of requests at a sleeping pod, a pod that cannot start on wake,
 * a steady trickle of requests, probes, a lease closed while asleep, a worker restarted while asleep.
 */
import { mkdtempSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Devnet, fundedPublisher, infraContainerOf, podHost, sealTestImage } from "@podnet/devnet";
import {
  type BenchProvider,
  closeLease,
  createLease,
  docker,
  killWorker,
  leaseNetworkIds,
  leaseObjects,
  podManifest,
  sendManifest,
  startBenchProvider,
  waitServing,
  warmUp,
} from "@podnet/devnet/bench/pods";
import { sleep } from "@podnet/devnet/bench/stats";
import { leaseStopped, sleepyManifest, waitAsleep } from "@podnet/devnet/bench/wake";
import { POD_STATE_HEADER, type PodStatusResponse, PROBE_HEADER, PROBE_HEADER_VALUE } from "@podnet/sdk/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PAGE = "hello from a sleepy pod";
/** This file's provider account (Docker objects are labelled with its address). */
const INDEX = 27;
let devnet: Devnet;
let b: BenchProvider;

/** GET / through the ingress for the lease's host, with its status, headers and body. */
function get(leaseId: bigint, headers: Record<string, string> = {}, timeoutMs = 40_000) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve) => {
    const req = request(
      { host: "127.0.0.1", port: b.worker.ingressPort, path: "/", headers: { host: podHost(leaseId), ...headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", (error) => resolve({ status: 0, headers: {}, body: error.message }));
    req.end();
  });
}

async function status(leaseId: bigint): Promise<PodStatusResponse> {
  const publisher = b.publishers[0];
  if (!publisher) throw new Error("no publisher");
  const response = await publisher.signedFetch(b.worker.apiUrl, b.address, `/v1/leases/${leaseId}`);
  return (await response.json()) as PodStatusResponse;
}

/** Docker `event` events (default `start`) of the lease's containers while `during` runs (to the second). */
async function startsDuring(leaseId: bigint, during: () => Promise<void>, event = "start"): Promise<number> {
  const since = Math.floor(Date.now() / 1000) - 1;
  await during();
  await sleep(300);
  const events = await docker.getEvents({
    since,
    until: Math.floor(Date.now() / 1000) + 1,
    filters: { type: ["container"], event: [event], label: [b.label, `podnet.lease=${leaseId}`] },
  });
  const text = await new Promise<string>((resolve) => {
    let all = "";
    events.on("data", (chunk: Buffer) => {
      all += chunk.toString("utf8");
    });
    events.on("end", () => resolve(all));
  });
  return text.split("\n").filter((line) => line.trim() !== "").length;
}

async function sleepyPod(idleSeconds = 1): Promise<bigint> {
  const publisher = b.publishers[0];
  if (!publisher) throw new Error("no publisher");
  const manifest = sleepyManifest(b.image.cid, idleSeconds);
  const { leaseId } = await createLease(b, publisher, manifest);
  await sendManifest(b, publisher, leaseId, manifest);
  await waitServing(b, leaseId);
  return leaseId;
}

beforeAll(async () => {
  devnet = await Devnet.start({ dir: mkdtempSync(join(tmpdir(), "podnet-scale-to-zero-")) });
  const image = await sealTestImage(docker, "podnet-test/sleepy:1", { page: PAGE });
  devnet.untagBlobOnStop(image.cid);
  const publisher = await fundedPublisher(devnet.chain, 2);
  b = await startBenchProvider(devnet, { index: INDEX, image, publishers: [publisher], page: PAGE });
  await warmUp(b, podManifest(image.cid, 250, 64));
}, 300_000);

afterAll(async () => {
  await devnet?.stop();
}, 120_000);

describe("scale-to-zero", () => {
  it("many concurrent requests to a sleeping pod: exactly one start, every request served", async () => {
    const leaseId = await sleepyPod();
    await waitAsleep(b, leaseId);
    expect((await status(leaseId)).pod.phase).toBe("asleep");
    let answers: { status: number; body: string }[] = [];
    const starts = await startsDuring(leaseId, async () => {
      answers = await Promise.all(Array.from({ length: 30 }, () => get(leaseId)));
    });
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
    for (const a of answers) expect(a.body).toContain(PAGE);
    expect(starts).toBe(1);
    const pod = await status(leaseId);
    expect(pod.events.map((e) => e.type)).toEqual(expect.arrayContaining(["slept", "woke"]));
  }, 120_000);

  it("a probe neither wakes a sleeping pod nor keeps an awake one awake; it learns only 'asleep'", async () => {
    const leaseId = await sleepyPod();
    // Probes every 200 ms while awake: the pod still falls asleep after its idle second.
    const probing = setInterval(() => void get(leaseId, { [PROBE_HEADER]: PROBE_HEADER_VALUE }), 200);
    try {
      await waitAsleep(b, leaseId);
      const probe = await get(leaseId, { [PROBE_HEADER]: PROBE_HEADER_VALUE });
      expect(probe.status).toBe(204);
      expect(probe.headers[POD_STATE_HEADER]).toBe("asleep");
      expect(probe.body).toBe("");
      await sleep(1000);
      expect(await leaseStopped(b, leaseId)).toBe(true);
    } finally {
      clearInterval(probing);
    }
  }, 120_000);

  it("a steady trickle of requests keeps the pod awake: no stop/start loop", async () => {
    const leaseId = await sleepyPod();
    // Stops, not starts: the pod's first start may fall in the same second as the window's start.
    const stops = await startsDuring(
      leaseId,
      async () => {
        for (let i = 0; i < 15; i++) {
          expect((await get(leaseId)).status).toBe(200);
          await sleep(200);
        }
      },
      "die",
    );
    expect(stops).toBe(0);
    expect(await leaseStopped(b, leaseId)).toBe(false);
  }, 120_000);

  it("a pod that cannot start on wake: held requests get 503 with Retry-After, no hang; the next request tries again", async () => {
    const leaseId = await sleepyPod();
    await waitAsleep(b, leaseId);
    // A real start failure: what holds the pod's network is gone, so Docker cannot start the container. A pod in its
    // slot's infra container loses that container; one of its own endpoints, its network (named by its pool slot).
    const [pod] = await docker.listContainers({ all: true, filters: { label: [b.label, `podnet.lease=${leaseId}`] } });
    const infra = pod && infraContainerOf(pod);
    if (infra !== undefined) {
      await docker.getContainer(infra).remove({ force: true });
    } else {
      const networks = Object.values(pod?.NetworkSettings?.Networks ?? {}).map((n) => n.NetworkID);
      expect(networks).toHaveLength(1);
      for (const id of networks) await docker.getNetwork(id).remove();
    }
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 5 }, () => get(leaseId)));
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.headers["retry-after"]).toMatch(/^\d+$/);
    }
    const wakeFailures = async () => (await status(leaseId)).events.filter((e) => e.type === "wake-failed").length;
    // The held requests share wake attempts (one, unless a request reached the worker after an attempt had failed,
    // which a busy machine makes possible): fewer attempts than requests.
    const held = await wakeFailures();
    expect(held).toBeGreaterThanOrEqual(1);
    expect(held).toBeLessThan(answers.length);
    const again = await get(leaseId);
    expect(again.status).toBe(503);
    expect(await wakeFailures()).toBe(held + 1);
  }, 120_000);

  it("a lease closed while asleep: its containers are removed like any ended lease's", async () => {
    const leaseId = await sleepyPod();
    await waitAsleep(b, leaseId);
    const publisher = b.publishers[0];
    if (!publisher) throw new Error("no publisher");
    const networkIds = await leaseNetworkIds(b, leaseId);
    expect(networkIds).toHaveLength(1);
    await closeLease(b, publisher, leaseId);
    expect(await leaseObjects(b, leaseId, networkIds)).toEqual([]);
  }, 120_000);

  it("a worker restarted while a pod sleeps keeps it asleep, and the pod wakes on the next request", async () => {
    const leaseId = await sleepyPod(2);
    await waitAsleep(b, leaseId);
    // Not one start: a reconcile that took the stopped container for a crash would start it (and the pod would fall
    // asleep again 2 s later, so only the start events tell).
    const starts = await startsDuring(leaseId, async () => {
      await killWorker(b);
      await b.restart("worker-restart.log");
      // Several reconcile passes of the new worker.
      await sleep(4000);
    });
    expect(starts).toBe(0);
    expect(await leaseStopped(b, leaseId)).toBe(true);
    expect((await status(leaseId)).pod.phase).toBe("asleep");
    const answer = await get(leaseId);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain(PAGE);
  }, 180_000);
});
