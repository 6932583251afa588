/**
 * `npm run bench:usage [pods]` (under the Docker lock): what one usage sample of the admin API costs on this Docker
 * Engine. Starts `pods` busybox containers (default 40) labelled as one provider's pods, then times a whole sample of
 * the worker's UsageSampler (one list call, a one-shot `docker stats` per container, USAGE_SAMPLE_CONCURRENCY at a time) against the same
 * containers read with a plain `stats` call (Docker's two samples a second apart), and removes them.
 */
import { buildTestImage, localDocker } from "@podnet/devnet";
import { privateKeyToAccount } from "viem/accounts";
import { AdminEventBus } from "../../worker/src/admin/event-bus.js";
import { USAGE_SAMPLE_CONCURRENCY, UsageSampler } from "../../worker/src/admin/usage-sampler.js";
import type { WorkerContext } from "../../worker/src/context.js";
import { createLogger } from "../../worker/src/log.js";
import { mapLimit } from "../../worker/src/runtime/docker-util.js";
import { DockerRuntime, LABELS } from "../../worker/src/runtime/index.js";

const PODS = Number(process.argv[2] ?? 40);
const IMAGE = "podnet-bench/usage:1";
const docker = localDocker();
const provider = privateKeyToAccount(`0x${"42".repeat(32)}`).address.toLowerCase();
/** A fixed instance tag: this script is the only "deployment" of this key. */
const instance = { provider: provider as `0x${string}`, tag: "0000a5a9" };
const runtime = new DockerRuntime({ docker, instance });

await buildTestImage(docker, IMAGE, {});
const ids: string[] = [];
try {
  await mapLimit(
    Array.from({ length: PODS }, (_, i) => i + 1),
    8,
    async (lease) => {
      const container = await docker.createContainer({
        Image: IMAGE,
        Cmd: ["httpd", "-f", "-p", "8080", "-h", "/www"],
        Labels: {
          [LABELS.managed]: "true",
          [LABELS.provider]: provider,
          [LABELS.instance]: instance.tag,
          [LABELS.lease]: String(lease),
          [LABELS.spec]: `0x${"ab".repeat(32)}`,
          [LABELS.container]: "web",
          [LABELS.replica]: "0",
        },
        HostConfig: { Memory: 64 * 2 ** 20 },
      });
      ids.push(container.id);
      await container.start();
    },
  );
  const sampler = new UsageSampler({
    runtime,
    adminEvents: new AdminEventBus(),
    log: createLogger("error", () => undefined),
    config: { usageSampleSec: 5 },
  } as unknown as Pick<WorkerContext, "runtime" | "adminEvents" | "log"> & { config: { usageSampleSec: number } });
  await sampler.sample();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const sample = await sampler.sample();
    times.push(performance.now() - started);
    if (Object.keys(sample.leases).length !== PODS)
      throw new Error(`sampled ${Object.keys(sample.leases).length} pods`);
  }
  times.sort((a, b) => a - b);
  const started = performance.now();
  await mapLimit(ids, USAGE_SAMPLE_CONCURRENCY, (id) => runtime.stats(id));
  const plain = performance.now() - started;
  console.log(`${PODS} running pods, ${USAGE_SAMPLE_CONCURRENCY} stats calls at a time`);
  console.log(
    `usage sample (one-shot stats): median ${times[2]?.toFixed(0)} ms, worst ${times[4]?.toFixed(0)} ms of 5`,
  );
  console.log(`same containers with plain stats: ${plain.toFixed(0)} ms`);
} finally {
  await mapLimit(ids, 8, (id) => docker.getContainer(id).remove({ force: true }));
  await docker
    .getImage(IMAGE)
    .remove({ noprune: true })
    .catch(() => undefined);
}
