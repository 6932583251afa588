import { getAddress } from "viem";
import { manifestResources, type Resources } from "../../protocol/index.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { table } from "../output.js";
import { formatBps, formatTokens, parseCount } from "../units.js";
import { amountOption, attributesOption, podArgument, stringOption, tokenOrUndefined } from "./shared.js";

export const options: OptionSpec = {
  spec: { type: "string", value: "pod.yaml", description: "search for this pod's total resources" },
  cpu: { type: "string", value: "millicores", description: "CPU in thousandths of a core (with --memory)" },
  memory: { type: "string", value: "MiB", description: "memory in MiB" },
  storage: { type: "string", value: "MiB", description: "storage in MiB (default 0)" },
  attr: { type: "list", value: "key=value", description: "required provider attribute (repeatable)" },
  "max-price": { type: "string", value: "base units/s", description: "only providers at most this price per second" },
  limit: { type: "string", value: "n", description: "at most this many (1-100, default 20)" },
};

export const help = `Asks the indexer for providers that can run the pod now (active, heartbeat fresh, enough stake
and capacity), cheapest first. PRICE/S is the provider's listed price for these resources in token base units;
UPTIME is since its first stake; FREE STAKE backs new leases.

examples:
  podnet providers --spec pod.yaml
  podnet providers --cpu 500 --memory 256 --attr region=eu --max-price 1000000 --json`;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  if (args.positionals.length > 0) throw new UsageError(`providers: unexpected argument ${args.positionals[0]}`);
  const specFile = stringOption(args, "spec");
  const cpu = stringOption(args, "cpu");
  const memory = stringOption(args, "memory");
  const storage = stringOption(args, "storage");
  let resources: Resources;
  if (specFile !== undefined) {
    if (cpu !== undefined || memory !== undefined || storage !== undefined) {
      throw new UsageError("--spec: give either --spec or --cpu/--memory/--storage, not both");
    }
    const { manifest } = podArgument(ctx, specFile, "providers");
    resources = manifestResources(manifest);
  } else {
    if (cpu === undefined || memory === undefined) {
      throw new UsageError("providers: give --spec pod.yaml, or --cpu and --memory (and --storage)");
    }
    resources = {
      cpuMillis: parseCount(cpu, "--cpu"),
      memoryMiB: parseCount(memory, "--memory"),
      storageMiB: storage === undefined ? 0 : parseCount(storage, "--storage", { min: 0 }),
    };
  }
  const limitText = stringOption(args, "limit");
  const limit = limitText === undefined ? undefined : parseCount(limitText, "--limit", { max: 100 });
  const maxPrice = amountOption(args, "max-price");
  const attributes = attributesOption(args);
  const client = await ctx.client("none");
  const found = (
    await client.findProviders({
      resources,
      attributes,
      ...(maxPrice !== undefined ? { maxPricePerSecond: maxPrice } : {}),
      ...(limit !== undefined ? { limit } : {}),
    })
  ).map((p) => ({ ...p, address: getAddress(p.address) })); // the indexer answers in lowercase
  const token = found.length > 0 ? await tokenOrUndefined(ctx) : undefined;
  ctx.out.result({ resources, providers: found }, () => {
    if (found.length === 0) {
      return `no provider can run ${resources.cpuMillis}m CPU, ${resources.memoryMiB} MiB memory, ${resources.storageMiB} MiB storage now`;
    }
    const stake = (v: bigint) => (token ? `${formatTokens(v, token.decimals)} ${token.symbol}` : `${v}`);
    return table(
      ["#", "address", "endpoint", "price/s", "uptime", "free stake", "attributes"],
      found.map((p, i) => [
        String(i + 1),
        p.address,
        p.endpoint,
        p.pricePerSecond.toString(),
        formatBps(p.uptimeBps),
        stake(p.stakeFree),
        p.attributes.join(" "),
      ]),
    );
  });
}
