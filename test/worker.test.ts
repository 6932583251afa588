/**
 * The provider worker end to end, against real parts only: anvil with the real contracts, the worker as a child
 * process (`podnet-worker run`), a real Docker Engine running images built locally FROM scratch with busybox and
 * shipped as encrypted blobs, and a publisher that signs its requests with the protocol layer.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  body,
  clients,
  Devnet,
  devAccount,
  filesUnder,
  freePort,
  fundedPublisher,
  ingress as ingressGet,
  type LocalChain,
  leaseContainers,
  localDocker,
  type Publisher,
  podNetworks,
  providerLabel,
  sandboxHostConfig,
  saveImage,
  sealTestImage,
  startDnsServer,
  tokenBalance,
  type WorkerProcess,
  waitFor,
} from "@podnet/devnet";
import {
  manifestHash,
  type PodManifestInput,
  podnetMarketAbi,
  providerApiPaths,
  requestHeaders,
  sealBlob,
  signRequest,
} from "@podnet/sdk/protocol";
import { type Address, type Hex, parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docker = localDocker();
const SECRET = `s3cr3t-${Math.random().toString(36).slice(2)}`;

let devnet: Devnet;
let chain: LocalChain;
let worker: WorkerProcess;
let provider: Address;
let encryptionKey: Hex;
let alice: Publisher;
let bob: Publisher;
const blobs: Record<string, { cid: string; key: Uint8Array; ciphertext: Uint8Array }> = {};
let tcpPort: number;
/** Serves the TXT records that prove custom hosts (`_podnet-lease.<host>`). */
let dns: Awaited<ReturnType<typeof startDnsServer>>;

/** GET through this worker's ingress with a Host header. */
const ingress = (host: string, path = "/") => ingressGet(worker.ingressPort, host, path);

const serving = (leaseId: bigint, expected: string) => worker.waitForPage(leaseId, expected);

function webManifest(imageCid: string, extra: Partial<PodManifestInput> = {}): PodManifestInput {
  return {
    version: 1,
    containers: [
      {
        name: "web",
        image: `blob:${imageCid}`,
        // -vv: busybox httpd logs every request's path, which the log tests look for.
        command: ["httpd", "-f", "-vv", "-p", "8080", "-h", "/www"],
        resources: { cpuMillis: 250, memoryMiB: 64, pids: 64 },
        mounts: [
          { volume: "data", path: "/data" },
          { volume: "creds", path: "/run/secrets", readOnly: true },
        ],
      },
    ],
    volumes: [
      { type: "persistent", name: "data", sizeMiB: 16 },
      { type: "secret", name: "creds", files: [{ path: "token", blob: blobs.secret?.cid as string }] },
    ],
    expose: { http: [{ container: "web", port: 8080 }] },
    ...extra,
  };
}

async function deploy(publisher: Publisher, manifest: PodManifestInput, seconds = 3600n) {
  const lease = await publisher.lease(worker.apiUrl, manifest, seconds);
  for (const blob of Object.values(blobs)) {
    const response = await publisher.uploadBlob(worker.apiUrl, provider, lease.leaseId, blob.cid, blob.ciphertext);
    expect([200, 201]).toContain(response.status);
  }
  const keys = Object.fromEntries(Object.values(blobs).map((b) => [b.cid, b.key]));
  const response = await publisher.sendManifest(worker.apiUrl, provider, encryptionKey, lease.leaseId, manifest, keys);
  expect(response.status, await response.clone().text()).toBe(202);
  return { ...lease, keys };
}

function dockerExec(containerId: string, cmd: string[]): string {
  return execFileSync("docker", ["exec", containerId, ...cmd], { encoding: "utf8", stdio: "pipe" });
}

beforeAll(async () => {
  devnet = await Devnet.start({ dir: mkdtempSync(join(tmpdir(), "podnet-worker-e2e-")) });
  chain = devnet.chain;
  blobs.v1 = await sealTestImage(docker, "podnet-test/web:v1", { page: "hello v1" });
  blobs.v2 = await sealTestImage(docker, "podnet-test/web:v2", { page: "hello v2" });
  blobs.secret = sealBlob(new TextEncoder().encode(SECRET));
  for (const image of [blobs.v1, blobs.v2]) devnet.untagBlobOnStop(image.cid);
  tcpPort = await freePort();
  dns = await startDnsServer();
  devnet.onStop("stop the DNS server", () => dns.close());
  ({
    address: provider,
    encryptionKey,
    worker,
  } = await devnet.startProvider({
    index: 4,
    capacity: { cpuMillis: 4000, memoryMiB: 4096, storageMiB: 100_000 },
    pricing: { perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 7n },
    attributes: ["region=eu"],
    env: {
      PODNET_WITHDRAW_INTERVAL_SEC: "5",
      PODNET_OUT_OF_FUNDS_GRACE_SEC: "5",
      PODNET_MANIFEST_TIMEOUT_SEC: "300",
      PODNET_TCP_PORT_RANGE: JSON.stringify([tcpPort, tcpPort]),
      PODNET_DNS_SERVERS: JSON.stringify([dns.address]),
    },
  }));
  alice = await fundedPublisher(chain, 2);
  bob = await fundedPublisher(chain, 3);
}, 240_000);

afterAll(() => devnet?.stop());

describe("worker: a pod's life", () => {
  let leaseId: bigint;
  let pricePerSecond: bigint;

  it("serves a lease's pod through the ingress after the manifest arrives", async () => {
    const started = performance.now();
    const lease = await deploy(alice, webManifest(blobs.v1?.cid as string));
    leaseId = lease.leaseId;
    pricePerSecond = lease.pricePerSecond;
    expect(await serving(leaseId, "hello v1")).toContain("hello v1");
    console.log(`lease tx -> serving: ${Math.round(performance.now() - started)} ms`);
    const status = await body(await alice.signedFetch(worker.apiUrl, provider, providerApiPaths.status(leaseId)));
    expect(status.pod.phase).toBe("running");
    expect(status.http.map((h: { host: string }) => h.host)).toContain(`l${leaseId}.pods.localhost`);
    expect(status.containers).toHaveLength(1);
  });

  it("applies the lease's exact limits and the sandbox to the container", async () => {
    const [summary] = await leaseContainers(docker, provider, leaseId);
    const info = await docker.getContainer(summary?.Id as string).inspect();
    const host = info.HostConfig;
    expect(host).toMatchObject(sandboxHostConfig({ cpuMillis: 250, memoryMiB: 64, pids: 64 }));
    expect(host.CapAdd ?? []).toEqual([]);
    expect(host.SecurityOpt).toContain("no-new-privileges");
    expect(host.NetworkMode).not.toBe("host");
    // One network of its own: a slot of the worker's pool (named by the slot, since it may be made before the lease).
    expect(Object.keys(await podNetworks(docker, info))).toEqual([
      expect.stringMatching(/^podnet-[0-9a-f]{8}-[0-9a-f]{8}-n\d+$/),
    ]);
    expect(host.Binds ?? []).toEqual([]);
    expect(host.Devices ?? []).toEqual([]);
    const binds = info.Mounts.filter((m) => m.Type === "bind");
    expect(binds).toHaveLength(1);
    expect(binds[0]?.RW).toBe(false);
    expect(binds[0]?.Source.startsWith("/dev/shm/")).toBe(true);
    expect(info.Config.Labels["podnet.lease"]).toBe(leaseId.toString());
    expect(info.Config.Labels["podnet.spec"]).toBe(manifestHash(webManifest(blobs.v1?.cid as string)));
  });

  it("gives the pod its secret as a read-only in-memory file, never in env, image, or the worker's disk", async () => {
    const [summary] = await leaseContainers(docker, provider, leaseId);
    const id = summary?.Id as string;
    expect(dockerExec(id, ["cat", "/run/secrets/token"])).toBe(SECRET);
    expect(() => dockerExec(id, ["sh", "-c", "echo x > /run/secrets/token"])).toThrow();
    const info = await docker.getContainer(id).inspect();
    expect(JSON.stringify(info.Config.Env)).not.toContain(SECRET);
    expect(JSON.stringify(info.Config)).not.toContain(SECRET);
    const image = Buffer.from(await saveImage(docker, info.Image));
    expect(image.includes(Buffer.from(SECRET))).toBe(false);
    // The container's own file system (what `docker export` or a commit would ship) holds no secret either.
    const exported = await docker.getContainer(id).export();
    const chunks: Buffer[] = [];
    for await (const chunk of exported) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).includes(Buffer.from(SECRET))).toBe(false);
    // Nor does any file of the worker's data directory.
    const withSecret = [...filesUnder(worker.dataDir)].filter(([, bytes]) => bytes.includes(Buffer.from(SECRET)));
    expect(withSecret.map(([file]) => file)).toEqual([]);
    expect(readFileSync(worker.logFile, "utf8")).not.toContain(SECRET);
  });

  it("reports usage from Docker stats and the pod's events", async () => {
    const usage = await body(await alice.signedFetch(worker.apiUrl, provider, providerApiPaths.usage(leaseId)));
    expect(usage.containers).toHaveLength(1);
    expect(usage.containers[0].memoryLimitBytes).toBe(64 * 1024 * 1024);
    expect(usage.containers[0].memoryBytes).toBeGreaterThan(0);
    const events = await body(await alice.signedFetch(worker.apiUrl, provider, providerApiPaths.events(leaseId)));
    expect(events.events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(["lease-created", "manifest", "running"]),
    );
  });

  it("streams logs: tail, and follow shows new lines as they happen", async () => {
    await ingress(`l${leaseId}.pods.localhost`, "/tail-marker");
    const tail = await alice.signedFetch(worker.apiUrl, provider, `${providerApiPaths.logs(leaseId)}?tail=50`);
    expect(tail.headers.get("content-type")).toContain("application/x-ndjson");
    expect(await tail.text()).toContain("/tail-marker");
    const follow = await alice.signedFetch(
      worker.apiUrl,
      provider,
      `${providerApiPaths.logs(leaseId)}?tail=0&follow=true`,
    );
    const reader = (follow.body as ReadableStream<Uint8Array>).getReader();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await ingress(`l${leaseId}.pods.localhost`, "/follow-marker");
    let seen = "";
    const deadline = Date.now() + 15_000;
    while (!seen.includes("/follow-marker") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(seen).toContain("/follow-marker");
    const line = JSON.parse(
      seen
        .trim()
        .split("\n")
        .find((l) => l.includes("/follow-marker")) as string,
    );
    expect(line.stream).toMatch(/stdout|stderr/);
  });

  it("replaces the containers on a spec update and keeps the persistent volume", async () => {
    const [before] = await leaseContainers(docker, provider, leaseId);
    dockerExec(before?.Id as string, ["sh", "-c", "echo kept > /data/state"]);
    const manifest = webManifest(blobs.v2?.cid as string);
    await alice.write("updateLeaseSpec", [leaseId, manifestHash(manifest)]);
    const keys = Object.fromEntries(Object.values(blobs).map((b) => [b.cid, b.key]));
    const response = await alice.sendManifest(worker.apiUrl, provider, encryptionKey, leaseId, manifest, keys);
    expect(response.status, await response.clone().text()).toBe(202);
    await serving(leaseId, "hello v2");
    const after = await waitFor("the old container to go", async () => {
      const list = await leaseContainers(docker, provider, leaseId);
      return list.length === 1 ? list : undefined;
    });
    expect(after[0]?.Labels["podnet.spec"]).toBe(manifestHash(manifest));
    expect(dockerExec(after[0]?.Id as string, ["cat", "/data/state"]).trim()).toBe("kept");
  });

  it("removes containers, network and volumes on close, and the provider is paid exactly rate x time", async () => {
    // The balance at a block, and every withdrawal after it: the worker withdraws on its own schedule, and one mined
    // between reading the balance and the close must be counted too.
    const { client } = clients(chain);
    const beforeBlock = await client.getBlockNumber();
    const providerBefore = await tokenBalance(chain, provider, beforeBlock);
    const receipt = await alice.write("closeLease", [leaseId]);
    const [closed] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseClosed", logs: receipt.logs });
    const label = [providerLabel(provider), `podnet.lease=${leaseId}`];
    // The pod's network is named by its pool slot, not the lease (it may be made warm, before the lease).
    const [pod] = await leaseContainers(docker, provider, leaseId);
    const networkIds = Object.values(pod ? await podNetworks(docker, pod) : {}).map((n) => n.NetworkID);
    expect(networkIds).toHaveLength(1);
    await waitFor("containers, network and volumes to be removed", async () => {
      const containers = await leaseContainers(docker, provider, leaseId);
      const volumes = (await docker.listVolumes({ filters: { label } })).Volumes ?? [];
      const networks = (await docker.listNetworks({ filters: { label: [providerLabel(provider)] } })).filter((n) =>
        networkIds.includes(n.Id),
      );
      return containers.length + volumes.length + networks.length === 0 ? true : undefined;
    });
    expect((await ingress(`l${leaseId}.pods.localhost`)).status).toBe(404);

    const market = chain.deployment.contracts.podnetMarket.address;
    await waitFor("the worker to withdraw what the lease owed", async () => {
      const lease = await client.readContract({
        address: market,
        abi: podnetMarketAbi,
        functionName: "getLease",
        args: [leaseId],
      });
      return lease.balance === 0n ? lease : undefined;
    });
    const lease = await client.readContract({
      address: market,
      abi: podnetMarketAbi,
      functionName: "getLease",
      args: [leaseId],
    });
    const settled = await client.getContractEvents({
      address: market,
      abi: podnetMarketAbi,
      eventName: "LeaseSettled",
      args: { leaseId },
      fromBlock: 0n,
    });
    const paid = settled.reduce((sum, e) => sum + (e.args.amount as bigint), 0n);
    expect(closed?.args.endedAt).toBe(BigInt(lease.endedAt));
    expect(paid).toBe(pricePerSecond * BigInt(lease.endedAt - lease.startedAt));
    const endBlock = await client.getBlockNumber();
    const withdrawals = await client.getContractEvents({
      address: market,
      abi: podnetMarketAbi,
      eventName: "ProviderWithdrew",
      args: { provider },
      fromBlock: beforeBlock + 1n,
      toBlock: endBlock,
    });
    const net = withdrawals.reduce((sum, e) => sum + (e.args.net as bigint), 0n);
    expect(await tokenBalance(chain, provider, endBlock)).toBe(providerBefore + net);
  });
});

describe("worker: TCP ports and custom hosts", () => {
  it("maps a TCP port to an allocated host port and routes a proven custom host, both shown in the status", async () => {
    const manifest: PodManifestInput = {
      version: 1,
      containers: [{ name: "api", image: `blob:${blobs.v1?.cid}`, resources: { cpuMillis: 100, memoryMiB: 32 } }],
      expose: {
        http: [{ container: "api", port: 8080, host: "shop.example.test" }],
        tcp: [{ container: "api", port: 8080 }],
      },
    };
    const { leaseId } = await deploy(bob, manifest);
    await serving(leaseId, "hello v1");
    dns.setTxt("_podnet-lease.shop.example.test", [`lease=31337:${leaseId}`]);
    await waitFor("the proven custom host to be routed", async () =>
      (await ingress("shop.example.test")).body.includes("hello v1") ? true : undefined,
    );
    const status = await body(await bob.signedFetch(worker.apiUrl, provider, providerApiPaths.status(leaseId)));
    expect(status.tcp).toEqual([{ container: "api", port: 8080, replica: 0, hostPort: tcpPort }]);
    expect(status.http.map((h: { host: string }) => h.host)).toEqual(
      expect.arrayContaining([`l${leaseId}.pods.localhost`, "shop.example.test"]),
    );
    // Raw TCP on the allocated host port reaches the container directly (here it happens to speak HTTP).
    const direct = await fetch(`http://127.0.0.1:${tcpPort}/`);
    expect(await direct.text()).toContain("hello v1");

    // Another lease asking for the same custom host does not get it: the DNS proof names the first lease.
    const second = await deploy(alice, {
      ...manifest,
      containers: [{ ...(manifest.containers[0] as object), resources: { cpuMillis: 101, memoryMiB: 32 } }],
      expose: { http: [{ container: "api", port: 8080, host: "shop.example.test" }] },
    } as PodManifestInput);
    await serving(second.leaseId, "hello v1");
    const secondStatus = await body(
      await alice.signedFetch(worker.apiUrl, provider, providerApiPaths.status(second.leaseId)),
    );
    expect(secondStatus.http.map((h: { host: string }) => h.host)).not.toContain("shop.example.test");
    await bob.write("closeLease", [leaseId]);
    await alice.write("closeLease", [second.leaseId]);
  });
});

describe("worker: a pod that keeps crashing", () => {
  it("is reported as failed with the reason, not as running", async () => {
    const manifest: PodManifestInput = {
      version: 1,
      containers: [
        {
          name: "crash",
          image: `blob:${blobs.v1?.cid}`,
          command: ["sh", "-c", "echo about to fail; exit 3"],
          resources: { cpuMillis: 50, memoryMiB: 16 },
        },
      ],
    };
    const { leaseId } = await deploy(bob, manifest);
    const status = await waitFor("the pod to be reported failed", async () => {
      const s = await body(await bob.signedFetch(worker.apiUrl, provider, providerApiPaths.status(leaseId)));
      return s.pod.phase === "failed" ? s : undefined;
    });
    expect(status.pod.reason).toMatch(/container crash \(replica 0\) is (restarting|exited)/);
    const logs = await bob.signedFetch(worker.apiUrl, provider, `${providerApiPaths.logs(leaseId)}?tail=5`);
    expect(await logs.text()).toContain("about to fail");
    await bob.write("closeLease", [leaseId]);
  });
});

describe("worker: refusing bad input", () => {
  let leaseId: bigint;
  let manifest: PodManifestInput;

  beforeAll(async () => {
    manifest = webManifest(blobs.v1?.cid as string);
    ({ leaseId } = await alice.lease(worker.apiUrl, manifest, 3600n));
  });

  const put = (upload: unknown, publisher = alice) =>
    publisher.signedFetch(worker.apiUrl, provider, providerApiPaths.manifest(leaseId), {
      method: "PUT",
      body: JSON.stringify(upload),
    });
  const refusal = async (upload: unknown) => {
    const response = await put(upload);
    const json = await body(response);
    return { status: response.status, message: json.error.message as string, issues: json.error.issues ?? [] };
  };
  const withContainer = (patch: Record<string, unknown>) => ({
    manifest: { ...manifest, containers: [{ ...(manifest.containers[0] as object), ...patch }] },
  });

  // Bodies are built lazily: the table exists before beforeAll made the blobs and the manifest.
  const cases: [string, () => unknown, string, string][] = [
    ["privileged mode", () => withContainer({ privileged: true }), "containers[0]", "privileged"],
    ["host network", () => withContainer({ hostNetwork: true }), "containers[0]", "hostNetwork"],
    ["devices", () => withContainer({ devices: ["/dev/sda"] }), "containers[0]", "devices"],
    [
      "a host path volume",
      () => ({ manifest: { ...manifest, volumes: [{ type: "host", name: "data", hostPath: "/" }] } }),
      "volumes[0].type",
      "",
    ],
    ["an unknown field", () => ({ manifest: { ...manifest, network: "host" } }), "manifest", "network"],
    [
      "zero CPU",
      () => withContainer({ resources: { cpuMillis: 0, memoryMiB: 64 } }),
      "containers[0].resources.cpuMillis",
      "",
    ],
    [
      "negative memory",
      () => withContainer({ resources: { cpuMillis: 100, memoryMiB: -5 } }),
      "containers[0].resources.memoryMiB",
      "",
    ],
    [
      "a relative mount path",
      () => withContainer({ mounts: [{ volume: "data", path: "data" }] }),
      "containers[0].mounts[0].path",
      "",
    ],
    ["an image by tag", () => withContainer({ image: "nginx:latest" }), "containers[0].image", "digest"],
    [
      "an oversized manifest",
      () => withContainer({ env: { BIG: "x".repeat(30_000), BIG2: "y".repeat(30_000), BIG3: "z".repeat(30_000) } }),
      "manifest",
      "bytes",
    ],
    [
      "a manifest that is not the lease's spec",
      () => ({ manifest: webManifest(blobs.v2?.cid as string) }),
      "manifest",
      "spec",
    ],
    ["a missing content key", () => ({ manifest, keys: {} }), `keys.`, "missing"],
  ];

  it.each(cases)("refuses %s with a 400 naming the field, and creates nothing", async (_name, body, path, word) => {
    const result = await refusal(body());
    expect(result.status).toBe(400);
    const paths = result.issues.map((i: { path: string }) => i.path);
    // A path ending in "." stands for any content id after it.
    if (path.endsWith(".")) expect(paths.some((p: string) => p.startsWith(path))).toBe(true);
    else expect(paths).toContain(path);
    if (word) expect(result.message).toContain(word);
    expect(await leaseContainers(docker, provider, leaseId)).toHaveLength(0);
    expect(existsSync(join(worker.dataDir, "manifests", leaseId.toString()))).toBe(false);
  });

  it("refuses a body that is not JSON or too large", async () => {
    const notJson = await alice.signedFetch(worker.apiUrl, provider, providerApiPaths.manifest(leaseId), {
      method: "PUT",
      body: "{nope",
    });
    expect(notJson.status).toBe(400);
    expect((await body(notJson)).error.message).toContain("body");
    const huge = await alice.signedFetch(worker.apiUrl, provider, providerApiPaths.manifest(leaseId), {
      method: "PUT",
      body: JSON.stringify({ manifest: "x".repeat(300_000) }),
    });
    expect(huge.status).toBe(413);
  });

  it("refuses an open quote (no publisher): whoever saw it first could use it and burn the provider's nonce", async () => {
    const open = await fetch(`${worker.apiUrl}${providerApiPaths.quote}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        specHash: `0x${"cd".repeat(32)}`,
        resources: { cpuMillis: 10, memoryMiB: 8, storageMiB: 0 },
      }),
    });
    expect(open.status).toBe(400);
    expect((await body(open)).error.issues).toEqual([
      {
        path: "publisher",
        message:
          "required: this provider signs quotes bound to the publisher that will create the lease (open quotes are off)",
      },
    ]);
  });

  it("refuses forged, stale and replayed signatures with 401", async () => {
    const path = providerApiPaths.status(leaseId);
    const mallory = devAccount(12).account;
    const forged = await signRequest(mallory, 31337, { provider, method: "GET", path });
    forged[requestHeaders.signer] = alice.address;
    const forgedResponse = await fetch(`${worker.apiUrl}${path}`, { headers: forged });
    expect(forgedResponse.status).toBe(401);
    expect((await body(forgedResponse)).error.message).toContain(requestHeaders.signature);

    const stale = await signRequest(
      alice.account,
      31337,
      { provider, method: "GET", path },
      Math.floor(Date.now() / 1000) - 120,
    );
    const staleResponse = await fetch(`${worker.apiUrl}${path}`, { headers: stale });
    expect(staleResponse.status).toBe(401);
    expect((await body(staleResponse)).error.message).toContain(requestHeaders.timestamp);

    const once = await signRequest(alice.account, 31337, { provider, method: "GET", path });
    expect((await fetch(`${worker.apiUrl}${path}`, { headers: once })).status).toBe(200);
    const replay = await fetch(`${worker.apiUrl}${path}`, { headers: once });
    expect(replay.status).toBe(401);
    expect((await body(replay)).error.message).toContain("replayed");

    const otherProvider = await signRequest(alice.account, 31337, {
      provider: devAccount(9).account.address,
      method: "GET",
      path,
    });
    expect((await fetch(`${worker.apiUrl}${path}`, { headers: otherProvider })).status).toBe(401);
    expect((await fetch(`${worker.apiUrl}${path}`)).status).toBe(401);
  });

  it("hides a lease from another publisher (403) and unknown leases (404)", async () => {
    const response = await bob.signedFetch(worker.apiUrl, provider, providerApiPaths.status(leaseId));
    expect(response.status).toBe(403);
    const upload = await put({ manifest }, bob);
    expect(upload.status).toBe(403);
    expect((await bob.signedFetch(worker.apiUrl, provider, providerApiPaths.logs(leaseId))).status).toBe(403);
    expect((await alice.signedFetch(worker.apiUrl, provider, providerApiPaths.status(999_999n))).status).toBe(404);
    expect(await leaseContainers(docker, provider, leaseId)).toHaveLength(0);
  });

  it("refuses a blob whose bytes do not match its content id", async () => {
    const { cid } = sealBlob(new TextEncoder().encode("a blob never uploaded"));
    const response = await alice.uploadBlob(worker.apiUrl, provider, leaseId, cid, new TextEncoder().encode("not it"));
    expect(response.status).toBe(400);
    expect((await body(response)).error.message).toContain("hashes to");
  });
});
