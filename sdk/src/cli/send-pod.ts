/**
 * Sends a pod to a lease's provider and waits for it, with the progress lines and the advice of `podnet deploy` and
 * `podnet update` (both use it). CLI presentation over two SDK actions (deployPod or updatePod, then waitForPod), so it
 * stays in the CLI: its own module rather than deploy.ts, so that update.ts does not load the deploy command.
 */
import type { DeployPodReturnType, UploadProgress } from "../actions/deploy-pod.js";
import type { GetPodStatusReturnType } from "../actions/get-pod-status.js";
import type { PodnetClientWithActions } from "../create-podnet-client.js";
import type { PodManifest } from "../protocol/index.js";
import { interruptibleWait } from "./commands/shared.js";
import type { Context } from "./config.js";
import { CliError, describeError } from "./errors.js";
import type { ByteProgress } from "./progress.js";

/**
 * deployPod (updatePod with `update`), then, with `wait`, waitForPod. A failure after the lease exists says how to
 * retry and how to stop paying.
 */
export async function sendPod(
  ctx: Context,
  client: PodnetClientWithActions,
  leaseId: bigint,
  manifest: PodManifest,
  file: string,
  opts: { wait: boolean; timeoutMs: number; update?: boolean },
): Promise<{ deployed: DeployPodReturnType; status?: GetPodStatusReturnType }> {
  const stillPaying = `lease ${leaseId} is active and paying: retry with podnet update ${leaseId} ${file}, or stop with podnet close ${leaseId}`;
  let deployed: DeployPodReturnType;
  const uploads = new Map<string, ByteProgress>();
  const onUploadProgress = ({ cid, sent, total }: UploadProgress) => {
    let meter = uploads.get(cid);
    if (!meter) {
      meter = ctx.out.meter(`uploading ${cid.slice(0, 20)}…`, total);
      uploads.set(cid, meter);
    }
    meter.update(sent);
    if (total > 0 && sent >= total) meter.done();
  };
  try {
    if (opts.update) {
      const updated = await client.updatePod({ leaseId, manifest, onUploadProgress });
      ctx.out.progress(
        updated.txHash ? `spec ${updated.specHash} set on chain (tx ${updated.txHash})` : "spec unchanged on chain",
      );
      deployed = updated;
    } else {
      deployed = await client.deployPod({ leaseId, manifest, onUploadProgress });
    }
  } catch (error) {
    throw new CliError(`${describeError(error)}\n${stillPaying}`);
  } finally {
    for (const meter of uploads.values()) meter.done();
  }
  const how = Object.values(deployed.blobs);
  const count = (kind: string) => how.filter((h) => h === kind).length;
  const fromSources = count("sources");
  ctx.out.progress(
    how.length === 0
      ? "blobs: none (registry images only)"
      : `blobs: ${count("uploaded")} uploaded, ${count("present")} already there${fromSources ? `, ${fromSources} fetched by the provider from known sources` : ""}`,
  );
  ctx.out.progress(`manifest sent to ${deployed.provider}`);
  if (!opts.wait) return { deployed };
  ctx.out.progress("waiting for the pod to run ...");
  let status: GetPodStatusReturnType;
  try {
    status = await interruptibleWait(ctx, leaseId, (signal) =>
      client.waitForPod({ leaseId, timeoutMs: opts.timeoutMs, signal }),
    );
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(
      `${describeError(error)}\n${stillPaying}; podnet status ${leaseId} and podnet logs ${leaseId} show why`,
    );
  }
  const url = status.http[0]?.url;
  ctx.out.progress(`pod running${url ? `: ${url}` : ""}`);
  return { deployed, status };
}
