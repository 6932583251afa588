import type { GetQuoteReturnType } from "../../actions/get-quote.js";
import { manifestHash, manifestResources } from "../../protocol/index.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { fields } from "../output.js";
import { formatAmount, formatDuration, formatTime } from "../units.js";
import {
  addressOption,
  amountOption,
  attributesOption,
  durationOption,
  podArgument,
  stringOption,
  tokenOrUndefined,
  topProvider,
} from "./shared.js";

export const options: OptionSpec = {
  provider: { type: "string", value: "address", description: "the provider to ask (default: the cheapest found)" },
  duration: { type: "string", value: "duration", description: "price the lease for this long (default 1h)" },
  "max-price": { type: "string", value: "base units/s", description: "refuse a quote above this price per second" },
  attr: { type: "list", value: "key=value", description: "without --provider: required attribute (repeatable)" },
  publisher: {
    type: "string",
    value: "address",
    description: "bind the quote to this account (default: your key's address)",
  },
};

export const help = `Asks a provider's API for a signed quote and checks it before showing it: the EIP-712 signature
recovers to the provider, the quote is for this spec, resources and account, the attestation document hashes to the
quote's attestationHash. The quote is bound to your key's address (or --publisher); providers refuse open quotes
unless their operator turned them on. Shows the price per second, the cost for --duration (durations: 90s, 30m, 1h, 1h30m, 2d) and
until when the quote is valid. Nothing is signed or paid.

examples:
  podnet quote pod.yaml
  podnet quote pod.yaml --provider 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --duration 24h`;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  const [file, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`quote: unexpected argument ${extra[0]}`);
  const { manifest } = podArgument(ctx, file, "quote");
  const seconds = durationOption(args, "duration", "1h") as bigint;
  const maxPrice = amountOption(args, "max-price");
  let provider = addressOption(stringOption(args, "provider"), "--provider");
  const attributes = attributesOption(args);
  const publisher = addressOption(stringOption(args, "publisher"), "--publisher");
  const client = await ctx.client("optional");
  if (!provider) {
    provider = (
      await topProvider(ctx, client, manifest, {
        attributes,
        ...(maxPrice !== undefined ? { maxPricePerSecond: maxPrice } : {}),
      })
    ).address;
  }
  const quoted = await client.getQuote({
    provider,
    manifest,
    ...(publisher ? { publisher } : {}),
    ...(maxPrice !== undefined ? { policy: { maxPricePerSecond: maxPrice } } : {}),
  });
  const cost = await client.estimateCost({ pricePerSecond: quoted.quote.pricePerSecond, seconds });
  const token = await tokenOrUndefined(ctx);
  const { quote } = quoted;
  ctx.out.result(
    {
      provider: quote.provider,
      endpoint: quoted.provider.endpoint,
      publisher: quote.publisher,
      specHash: quote.specHash,
      resources: quote.resources,
      pricePerSecond: quote.pricePerSecond,
      validUntil: quote.validUntil,
      nonce: quote.nonce,
      attestationHash: quote.attestationHash,
      attestation: quoted.attestation,
      signature: quoted.signature,
      cost,
    },
    () => {
      const r = manifestResources(manifest);
      return fields([
        ["provider", `${quote.provider} (${quoted.provider.endpoint})`],
        [
          "spec",
          `${manifestHash(manifest)} (${r.cpuMillis}m CPU, ${r.memoryMiB} MiB memory, ${r.storageMiB} MiB storage)`,
        ],
        ["price", `${formatAmount(quote.pricePerSecond, token)} per second`],
        [`cost ${formatDuration(seconds)}`, formatAmount(cost.total, token)],
        ["protocol fee", `${cost.feeBps / 100}% (${cost.protocolFee}), taken from the provider's earnings, not added`],
        ["valid until", formatTime(quote.validUntil)],
        ["bound to", /^0x0{40}$/.test(quote.publisher) ? "anyone (no key configured)" : quote.publisher],
        ["attestation", attestationText(quoted)],
        ["verified", "signature, spec, resources, publisher, attestation hash"],
      ]);
    },
  );
}

function attestationText({ attestation, quote }: GetQuoteReturnType): string {
  const rt = attestation.runtime;
  const tee = attestation.tee ? `TEE ${attestation.tee.kind}` : "no TEE evidence";
  return `${attestation.worker?.name} ${attestation.worker?.version} on ${rt?.kind} ${rt?.version} (${rt?.os}/${rt?.arch}, cgroup ${rt?.cgroup}), ${tee}; hash ${quote.attestationHash}`;
}
