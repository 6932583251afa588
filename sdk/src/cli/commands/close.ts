import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { CliError } from "../errors.js";
import { fields } from "../output.js";
import { formatAmount, formatTime, parseId } from "../units.js";
import { tokenOrUndefined } from "./shared.js";

export const options: OptionSpec = {};

export const help = `Ends a lease: the provider keeps what it earned up to now, the unspent escrow comes back to your
wallet, and the provider removes the pod. Prints the refund (and compensation, when the provider had been reported
dark).

example:
  podnet close 7`;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  const [id, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`close: unexpected argument ${extra[0]}`);
  const leaseId = parseId(id, "<leaseId>");
  const client = await ctx.client("required");
  const lease = await client.getLease({ leaseId });
  if (lease.status === "closed")
    throw new CliError(`lease ${leaseId}: already closed (ended ${formatTime(lease.endedAt)})`);
  const closed = await client.closeLease({ leaseId });
  const token = await tokenOrUndefined(ctx);
  ctx.out.progress(`lease ${leaseId} closed (tx ${closed.txHash})`);
  ctx.out.result({ leaseId, ...closed }, () =>
    fields([
      ["lease", `${leaseId} closed`],
      ["refund", `${formatAmount(closed.refund, token)} back in your wallet`],
      ["compensation", closed.compensation > 0n ? formatAmount(closed.compensation, token) : undefined],
      ["provider earned", `${formatAmount(closed.owed, token)} (not withdrawn yet)`],
      ["ended", formatTime(closed.endedAt)],
      ["tx", closed.txHash],
    ]),
  );
}
