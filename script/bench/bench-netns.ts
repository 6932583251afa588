/**
 * `npx tsx script/bench/bench-netns.ts [--runs N]`: where a pod's start on its lease network loses against the
 * docker-run floor, and what a pre-started network sandbox would win (issue 22: lease tx -> serving within 1.5x the
 * floor). Docker alone, no worker: for the same busybox httpd image, `--runs` rounds (default 8) of, interleaved,
 *
 * 1. the floor: create + start on Docker's default bridge with a published port, GET until 200 (`measureFloor`);
 * 2. the pod's way: create + start on a user-defined bridge network (what each lease gets), GET its address until 200;
 * 3. an infra container: the worker's pause image (worker/src/runtime/pause-image.ts) started ahead on that network (not
 *    timed, as the worker's warm pool holds it), then the app container created + started in its network namespace
 *    (`NetworkMode: container:<id>`, the Kubernetes "pause" pattern, worker/src/runtime/infra-containers.ts), GET the
 *    infra container's address until 200.
 *
 * The pod containers of 2 and 3 carry a pod's hardening (limits, no capabilities, no-new-privileges, a private cgroup
 * namespace, the restart policy), as the worker's do.
 *
 * Prints p50 / p95 / max of each. Everything it creates carries the label `podnet.bench=netns-<pid>` and is removed
 * on exit.
 */
import { parseArgs } from "node:util";
import { buildTestImage, cleanupOnSignal } from "@podnet/devnet";
import { docker, measureFloor, removeFloorContainers } from "@podnet/devnet/bench/pods";
import { fmt, sleep, summarize } from "@podnet/devnet/bench/stats";
import { ensurePauseImage, PAUSE_PATH } from "../../worker/src/runtime/pause-image.js";

const IMAGE = "podnet-bench/netns:1";
const PAGE = "podnet netns bench";
/** Outside the worker's default pool (10.200.0.0/14) and the test providers' (10.64.0.0/10). */
const SUBNET = "10.250.250.0/24";

const { values } = parseArgs({ options: { runs: { type: "string", default: "8" } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: "${values.runs}" must be a whole number >= 1`);
const label = `netns-${process.pid}`;
const labels = { "podnet.bench": label };
const MIB = 1024 * 1024;
/** What worker/src/runtime/container-spec.ts gives every pod container (250 mCPU / 64 MiB here). */
const POD_HARDENING = {
  NanoCpus: 250_000_000,
  Memory: 64 * MIB,
  MemorySwap: 64 * MIB,
  PidsLimit: 64,
  CapDrop: ["ALL"],
  SecurityOpt: ["no-new-privileges"],
  CgroupnsMode: "private",
  RestartPolicy: { Name: "unless-stopped" },
};

async function until200(address: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://${address}:8080/`, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200 && (await response.text()).includes(PAGE)) return;
    } catch {
      // Not listening yet.
    }
    await sleep(5);
  }
  throw new Error(`${address}:8080 did not serve within 30 s`);
}

async function addressOf(id: string): Promise<string> {
  const info = await docker.getContainer(id).inspect();
  const address = Object.values(info.NetworkSettings.Networks)[0]?.IPAddress;
  if (!address) throw new Error(`container ${id} has no address`);
  return address;
}

async function cleanup() {
  await removeFloorContainers(label);
  const networks = await docker.listNetworks({ filters: { label: [`podnet.bench=${label}`] } });
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove()));
}

async function main() {
  cleanupOnSignal(cleanup);
  await buildTestImage(docker, IMAGE, { page: PAGE });
  const pause = await ensurePauseImage(docker);
  if (pause === undefined) throw new Error("no pause program for this engine's architecture");
  const network = await docker.createNetwork({
    Name: `podnet-bench-${label}`,
    Driver: "bridge",
    Labels: labels,
    IPAM: { Config: [{ Subnet: SUBNET }] },
  });
  const samples = { floor: [] as number[], network: [] as number[], sandbox: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      samples.floor.push(...(await measureFloor(IMAGE, PAGE, label, 1)));

      let t0 = performance.now();
      const pod = await docker.createContainer({
        Image: IMAGE,
        Labels: labels,
        HostConfig: { ...POD_HARDENING, NetworkMode: network.id },
      });
      await pod.start();
      await until200(await addressOf(pod.id));
      samples.network.push(performance.now() - t0);

      const sandbox = await docker.createContainer({
        Image: pause,
        Labels: labels,
        Entrypoint: [PAUSE_PATH],
        User: "65534:65534",
        HostConfig: { NetworkMode: network.id, CapDrop: ["ALL"], ReadonlyRootfs: true },
      });
      await sandbox.start();
      const sandboxAddress = await addressOf(sandbox.id);
      t0 = performance.now();
      const app = await docker.createContainer({
        Image: IMAGE,
        Labels: labels,
        HostConfig: { ...POD_HARDENING, NetworkMode: `container:${sandbox.id}` },
      });
      await app.start();
      await until200(sandboxAddress);
      samples.sandbox.push(performance.now() - t0);
      await Promise.all([app, sandbox, pod].map((c) => c.remove({ force: true })));
    }
  } finally {
    await cleanup();
  }
  const row = (name: string, s: number[]) => {
    const { p50, p95, max } = summarize(s);
    return `| ${name} | ${fmt(p50)} / ${fmt(p95)} / ${fmt(max)} ms |`;
  };
  console.log(
    [
      `create + start -> first 200, ${runs} rounds, interleaved`,
      "",
      "| how | p50 / p95 / max |",
      "|---|---|",
      row("floor: default bridge, published port", samples.floor),
      row("user-defined bridge network (a lease's)", samples.network),
      row("in an infra container started ahead on that network", samples.sandbox),
    ].join("\n"),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
