import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { fields } from "../output.js";
import { sendPod } from "../send-pod.js";
import { parseId } from "../units.js";
import { durationOption, nextSteps, podArgument, podEndpoints, podJson } from "./shared.js";

export const options: OptionSpec = {
  wait: { type: "boolean", negatable: true, description: "wait until the new pod runs (default; --no-wait returns)" },
  timeout: { type: "string", value: "duration", description: "how long to wait for the pod (default 5m)" },
};

export const help = `Replaces a running pod: points the lease at the new spec's hash on chain (skipped when it is
already the lease's spec, so this also retries a deploy that failed half-way), sends the manifest and the blobs the
provider lacks, and waits until the new containers run. The new pod must fit in the resources the lease pays for.

example:
  podnet image add my-web:1.3 --set pod.yaml --container web && podnet update 7 pod.yaml`;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  const [id, file, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`update: unexpected argument ${extra[0]}`);
  const leaseId = parseId(id, "<leaseId>");
  const { manifest } = podArgument(ctx, file, "update");
  const timeoutMs = Number(durationOption(args, "timeout", "5m")) * 1000;
  const client = await ctx.client("required");
  const { deployed, status } = await sendPod(ctx, client, leaseId, manifest, file as string, {
    wait: args.options.wait !== false,
    timeoutMs,
    update: true,
  });
  const endpoints = status ? podEndpoints(status) : { urls: [], tcp: [] };
  ctx.out.result(
    {
      leaseId,
      specHash: deployed.specHash,
      ...("txHash" in deployed && deployed.txHash ? { txHash: deployed.txHash } : {}),
      blobs: deployed.blobs,
      uploads: deployed.uploads,
      phase: status?.pod.phase ?? "deployed",
      urls: endpoints.urls,
      ...(status ? { status: podJson(status) } : {}),
    },
    () =>
      [
        fields([
          ["lease", leaseId.toString()],
          ["spec", deployed.specHash],
          ["pod", status ? status.pod.phase : "sent (not waited for)"],
          ...endpoints.urls.map((url) => ["url", url] as const),
          ...endpoints.tcp.map((tcp) => ["tcp", tcp] as const),
        ]),
        "",
        ...nextSteps(leaseId),
      ].join("\n"),
  );
}
