import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { toJson } from "../output.js";
import { parseCount, parseId } from "../units.js";
import { stringOption } from "./shared.js";

export const options: OptionSpec = {
  container: { type: "string", value: "name", description: "which container (default: the pod's first)" },
  replica: { type: "string", value: "n", description: "which replica (default 0)" },
  tail: { type: "string", value: "n", description: "start with the last n lines (default 100; 0: only new ones)" },
  follow: { type: "boolean", short: "f", description: "keep printing new lines until Ctrl-C" },
};

export const help = `A container's logs from its provider (signed request; only the lease's publisher may read them).
The container's stdout goes to stdout, its stderr to stderr; with --json each record is one JSON line
{"stream", "text"} on stdout.

examples:
  podnet logs 7 --tail 20
  podnet logs 7 --container web -f`;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  const [id, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`logs: unexpected argument ${extra[0]}`);
  const leaseId = parseId(id, "<leaseId>");
  const container = stringOption(args, "container");
  const replica = stringOption(args, "replica");
  const tail = stringOption(args, "tail");
  const follow = args.options.follow === true;
  const client = await ctx.client("required");
  ctx.graceful = follow;
  try {
    const lines = await client.getPodLogs({
      leaseId,
      ...(container !== undefined ? { container } : {}),
      ...(replica !== undefined ? { replica: parseCount(replica, "--replica", { min: 0, max: 15 }) } : {}),
      ...(tail !== undefined ? { tail: parseCount(tail, "--tail", { min: 0, max: 1_000_000 }) } : {}),
      follow,
      signal: ctx.signal,
    });
    for await (const line of lines) {
      if (ctx.out.json) ctx.out.write(`${toJson({ stream: line.stream, text: line.text }, 0)}\n`);
      else if (line.stream === "stderr") ctx.out.writeErr(line.text);
      else ctx.out.write(line.text);
    }
  } catch (error) {
    // Ctrl-C ends a follow: that is how it is meant to stop.
    if (!ctx.signal.aborted) throw error;
  }
}
