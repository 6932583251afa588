/** Helpers shared by the commands: pod.yaml arguments, provider choice, amounts with the token, pod summaries. */
import { type Address, getAddress, type Hash, isAddress } from "viem";
import type { FoundProvider } from "../../actions/find-providers.js";
import type { GetPodStatusReturnType } from "../../actions/get-pod-status.js";
import type { PodnetClientWithActions } from "../../create-podnet-client.js";
import type { PodManifest } from "../../protocol/index.js";
import { type ParsedArgs, UsageError } from "../args.js";
import type { Context, TokenInfo } from "../config.js";
import { CliError } from "../errors.js";
import { readPodFile } from "../pod-file.js";
import { formatAmount, parseAmount, parseDuration } from "../units.js";

/** The pod.yaml positional (validated, with line:column errors). */
export function podArgument(
  ctx: Context,
  file: string | undefined,
  command: string,
): { manifest: PodManifest; file: string } {
  if (!file) throw new UsageError(`${command}: give the pod spec file (pod.yaml)`);
  return { manifest: readPodFile(ctx.path(file), file).manifest, file };
}

export function addressOption(text: string | undefined, what: string): Address | undefined {
  if (text === undefined) return undefined;
  if (!isAddress(text, { strict: false })) throw new UsageError(`${what}: "${text}" is not a 0x address`);
  return getAddress(text);
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  return args.options[name] as string | undefined;
}

export function listOption(args: ParsedArgs, name: string): string[] {
  return (args.options[name] as string[] | undefined) ?? [];
}

/** `--attr key=value` values, checked like the indexer and the market check them. */
export function attributesOption(args: ParsedArgs): string[] {
  const attributes = listOption(args, "attr");
  for (const attribute of attributes) {
    if (!/^[a-z0-9_.-]+=[^=]+$/.test(attribute)) {
      throw new UsageError(`--attr: "${attribute}" is not key=value (lowercase key)`);
    }
  }
  return attributes;
}

export function amountOption(args: ParsedArgs, name: string): bigint | undefined {
  const text = stringOption(args, name);
  return text === undefined ? undefined : parseAmount(text, `--${name}`);
}

export function durationOption(args: ParsedArgs, name: string, fallback?: string): bigint | undefined {
  const text = stringOption(args, name) ?? fallback;
  return text === undefined ? undefined : parseDuration(text, `--${name}`);
}

/** The cheapest provider the indexer finds for the pod (what `podnet providers` would list first). */
export async function topProvider(
  ctx: Context,
  client: PodnetClientWithActions,
  manifest: PodManifest,
  filters: { attributes: string[]; maxPricePerSecond?: bigint },
): Promise<FoundProvider> {
  const [best] = await client.findProviders({ manifest, ...filters, limit: 1 });
  if (!best) {
    throw new CliError(
      `no provider can run this pod now (indexer ${ctx.settings.indexerUrl.value}${
        filters.attributes.length ? `, attributes ${filters.attributes.join(" ")}` : ""
      }${filters.maxPricePerSecond !== undefined ? `, max price ${filters.maxPricePerSecond}/s` : ""}); see podnet providers`,
    );
  }
  // The indexer answers in lowercase; everything else the CLI prints is checksummed.
  const address = getAddress(best.address);
  ctx.out.progress(`provider ${address} (${best.endpoint}), cheapest of the indexer's search`);
  return { ...best, address };
}

/** Token info for amounts, or undefined when the token cannot be read (amounts then show base units only). */
export async function tokenOrUndefined(ctx: Context): Promise<TokenInfo | undefined> {
  return ctx.token().catch(() => undefined);
}

export function amountText(value: bigint, token: TokenInfo | undefined): string {
  return formatAmount(value, token);
}

/** What a pod summary shows: URLs, TCP ports. */
export function podEndpoints(status: GetPodStatusReturnType): { urls: string[]; tcp: string[] } {
  return {
    urls: status.http.map((h) => h.url),
    tcp: status.tcp.map((t) => `${t.container}:${t.port} (replica ${t.replica}) → host port ${t.hostPort}`),
  };
}

/** The JSON form of a pod status (bigints become strings in toJson). */
export function podJson(status: GetPodStatusReturnType) {
  return {
    phase: status.pod.phase,
    pod: status.pod,
    specHash: status.specHash,
    manifestSpecHash: status.manifestSpecHash,
    containers: status.containers,
    urls: status.http.map((h) => h.url),
    http: status.http,
    tcp: status.tcp,
    events: status.events,
  };
}

/** A phase in words: `running since 12:00:01Z`. */
export function phaseText(pod: GetPodStatusReturnType["pod"]): string {
  const at = (s: number) => `${new Date(s * 1000).toISOString().slice(11, 19)}Z`;
  switch (pod.phase) {
    case "running":
      return `running since ${at(pod.since)}`;
    case "asleep":
      return `asleep since ${at(pod.since)} (scale-to-zero: the next request wakes it)`;
    case "provisioning":
      return `provisioning since ${at(pod.since)}`;
    case "failed":
      return `failed at ${at(pod.at)}: ${pod.reason}`;
    case "stopped":
      return pod.reason ? `stopped: ${pod.reason}` : "stopped";
    default:
      return pod.phase;
  }
}

/** The lines after a successful deploy or update: where the pod answers, what to run next. */
export function nextSteps(leaseId: bigint, podFile = "pod.yaml"): string[] {
  return [
    "next:",
    `  podnet status ${leaseId}`,
    `  podnet logs ${leaseId} -f`,
    `  podnet top-up ${leaseId} --duration 1h`,
    `  podnet update ${leaseId} ${podFile}`,
    `  podnet close ${leaseId}`,
  ];
}

/** Runs `wait` with Ctrl-C stopping it gracefully: prints what keeps running and how to look at it. */
export async function interruptibleWait<T>(ctx: Context, leaseId: bigint, wait: (signal: AbortSignal) => Promise<T>) {
  ctx.graceful = true;
  try {
    return await wait(ctx.signal);
  } catch (error) {
    if (ctx.signal.aborted) {
      throw new CliError(
        `interrupted while waiting; lease ${leaseId} keeps running and paying: podnet status ${leaseId}, or podnet close ${leaseId}`,
        130,
      );
    }
    throw error;
  } finally {
    ctx.graceful = false;
  }
}

/**
 * The progress line of how a payment to the market was covered (the SDK's `funding`): a permit in the same
 * transaction, an exact approval sent first, or nothing to say when the allowance already covered it.
 */
export function fundingLine(
  paid: { funding: "allowance" | "permit" | "approve"; approveTxHash?: Hash },
  amount: bigint,
  token: TokenInfo | undefined,
): string | undefined {
  if (paid.funding === "permit")
    return `signed a permit for exactly ${formatAmount(amount, token)} (no approval transaction)`;
  if (paid.funding === "approve") return `approved the market to take exactly ${amount} (tx ${paid.approveTxHash})`;
  return undefined;
}
