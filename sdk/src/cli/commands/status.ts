import type { GetPodStatusReturnType } from "../../actions/get-pod-status.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { describeError } from "../errors.js";
import { fields, table } from "../output.js";
import { formatAmount, formatTime, parseCount, parseId } from "../units.js";
import { phaseText, podEndpoints, podJson, stringOption, tokenOrUndefined } from "./shared.js";

export const options: OptionSpec = {
  events: { type: "string", value: "n", description: "show this many recent pod events (default 5)" },
};

export const help = `The lease as the chain has it (status, escrow balance, when the funds run out, price) and the pod
as its provider reports it (phase, containers, HTTP URLs, TCP ports, recent events). When the provider cannot be
reached the chain part is still shown.

example:
  podnet status 7`;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  const [id, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`status: unexpected argument ${extra[0]}`);
  const leaseId = parseId(id, "<leaseId>");
  const eventsText = stringOption(args, "events");
  const shownEvents = eventsText === undefined ? 5 : parseCount(eventsText, "--events", { min: 0, max: 1000 });
  const client = await ctx.client("required");
  const lease = await client.getLease({ leaseId });
  let pod: GetPodStatusReturnType | undefined;
  let podError: string | undefined;
  try {
    pod = await client.getPodStatus({ leaseId });
  } catch (error) {
    podError = describeError(error);
  }
  const token = await tokenOrUndefined(ctx);
  ctx.out.result(
    {
      lease: {
        leaseId,
        status: lease.status,
        publisher: lease.publisher,
        provider: lease.provider,
        specHash: lease.specHash,
        pricePerSecond: lease.pricePerSecond,
        balance: lease.balance,
        withdrawable: lease.withdrawable,
        collateral: lease.collateral,
        startedAt: lease.startedAt,
        endedAt: lease.endedAt,
        runsOutAt: lease.runsOutAt,
        outOfFunds: lease.outOfFunds,
        disputed: lease.disputed,
      },
      pod: pod ? podJson(pod) : { error: podError },
    },
    () => {
      const lines = [
        fields([
          [
            "lease",
            `${leaseId} ${lease.status}${lease.outOfFunds ? " (out of funds)" : ""}${lease.disputed ? " (disputed)" : ""}`,
          ],
          ["provider", lease.provider],
          ["price", `${formatAmount(lease.pricePerSecond, token)} per second`],
          ["balance", `${formatAmount(lease.balance, token)} in escrow (${lease.withdrawable} earned by the provider)`],
          [
            lease.status === "active" ? "runs out" : "ended",
            formatTime(lease.status === "active" ? lease.runsOutAt : lease.endedAt),
          ],
          ["started", formatTime(lease.startedAt)],
          ["spec", lease.specHash],
          ["pod", pod ? phaseText(pod.pod) : `unknown: ${podError}`],
          ...(pod ? podEndpoints(pod).urls.map((url) => ["url", url] as const) : []),
          ...(pod ? podEndpoints(pod).tcp.map((tcp) => ["tcp", tcp] as const) : []),
        ]),
      ];
      if (pod && pod.containers.length > 0) {
        lines.push(
          "",
          table(
            ["container", "replica", "state", "spec", "image"],
            pod.containers.map((c) => [c.name, String(c.replica), c.state, c.specHash.slice(0, 10), c.image]),
          ),
        );
      }
      const events = pod?.events.slice(-shownEvents) ?? [];
      if (events.length > 0) {
        lines.push(
          "",
          table(
            ["time", "event", "message"],
            events.map((e) => [
              `${new Date(e.at * 1000).toISOString().slice(0, 19).replace("T", " ")}Z`,
              e.type,
              e.message,
            ]),
          ),
        );
      }
      return lines.join("\n");
    },
  );
}
