import { escrowFor, fundedSeconds } from "../../protocol/index.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { fields } from "../output.js";
import { formatAmount, formatDuration, formatTime, parseId } from "../units.js";
import { amountOption, durationOption, fundingLine, stringOption, tokenOrUndefined } from "./shared.js";

export const options: OptionSpec = {
  amount: { type: "string", value: "base units", description: "add exactly this much" },
  duration: { type: "string", value: "duration", description: "or add this long at the lease's price" },
};

export const help = `Adds funds to a running lease's escrow: one transaction with a permit for exactly the amount when
the token takes them, else an exact approval first. A lease whose funds already ran out cannot be revived:
close it and deploy again.

examples:
  podnet top-up 7 --duration 24h
  podnet top-up 7 --amount 3600000000`;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  const [id, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`top-up: unexpected argument ${extra[0]}`);
  const leaseId = parseId(id, "<leaseId>");
  const hasAmount = stringOption(args, "amount") !== undefined;
  const hasDuration = stringOption(args, "duration") !== undefined;
  if (hasAmount === hasDuration) throw new UsageError("top-up: give either --amount <base units> or --duration <d>");
  const seconds = durationOption(args, "duration");
  const client = await ctx.client("required");
  const before = await client.getLease({ leaseId });
  const amount = amountOption(args, "amount") ?? escrowFor(before.pricePerSecond, seconds as bigint);
  const token = await tokenOrUndefined(ctx);
  ctx.out.progress(
    `adding ${formatAmount(amount, token)} to lease ${leaseId} (about ${formatDuration(fundedSeconds(amount, before.pricePerSecond))})`,
  );
  const topped = await client.topUp({ leaseId, amount });
  const { balance, txHash } = topped;
  const funded = fundingLine(topped, amount, token);
  if (funded) ctx.out.progress(funded);
  const after = await client.getLease({ leaseId });
  ctx.out.result({ leaseId, amount, balance, runsOutAt: after.runsOutAt, txHash, funding: topped.funding }, () =>
    fields([
      ["lease", leaseId.toString()],
      ["added", formatAmount(amount, token)],
      ["balance", formatAmount(balance, token)],
      ["runs out", formatTime(after.runsOutAt)],
      ["tx", txHash],
    ]),
  );
}
