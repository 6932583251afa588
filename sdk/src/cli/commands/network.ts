/**
 * The autoscaler network from the owner's side: `podnet app create --network` (its flags and what runs after the
 * vault exists), `podnet app hand-over` (the app sent again to every live node), and the "served by" line of
 * `podnet app status`. See docs/autoscaler-network.md, "Handing an app to the network".
 */
import type { Address, Hex } from "viem";
import { getAppNetworkTerms } from "../../actions/get-app-network-terms.js";
import { setAppNetworkTerms } from "../../actions/set-app-network-terms.js";
import type { PodnetClientWithActions } from "../../create-podnet-client.js";
import { type HandoverResult, handAppToNetwork, readLiveNodes } from "../../network-handover.js";
import { servingNode } from "../../protocol/index.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { CommandModule } from "../command-module.js";
import type { Context, TokenInfo } from "../config.js";
import { CliError } from "../errors.js";
import { fields } from "../output.js";
import { formatAmount, parseAmount } from "../units.js";
import { addressOption, stringOption } from "./shared.js";

const MAX_UINT96 = (1n << 96n) - 1n;

export const networkOptions: OptionSpec = {
  network: {
    type: "boolean",
    description: "network mode: every live autoscaler node may serve the app; hands the app to them",
  },
  "fee-per-replacement": {
    type: "string",
    value: "base units",
    description: "with --network: paid to the node for each lease it places (default 0)",
  },
  "max-fees-per-day": {
    type: "string",
    value: "base units",
    description: "with --network: the most the app pays nodes in one UTC day (needed with a fee)",
  },
};

export interface NetworkTermsInput {
  enabled: boolean;
  feePerReplacement: bigint;
  maxFeesPerDay: bigint;
}

/** The network terms `create --network` asks for, checked before anything is sent; undefined without --network. */
export function networkTermsFromArgs(args: ParsedArgs): NetworkTermsInput | undefined {
  const feeText = stringOption(args, "fee-per-replacement");
  const maxText = stringOption(args, "max-fees-per-day");
  if (args.options.network !== true) {
    if (feeText !== undefined) throw new UsageError("--fee-per-replacement: only with --network");
    if (maxText !== undefined) throw new UsageError("--max-fees-per-day: only with --network");
    return undefined;
  }
  const amount = (text: string | undefined, flag: string) => {
    if (text === undefined) return 0n;
    const value = parseAmount(text, flag, { allowZero: true });
    if (value > MAX_UINT96) throw new UsageError(`${flag}: ${value} is more than a vault holds (2^96 - 1)`);
    return value;
  };
  const feePerReplacement = amount(feeText, "--fee-per-replacement");
  if (feePerReplacement > 0n && maxText === undefined) {
    throw new UsageError("--max-fees-per-day: required with --fee-per-replacement (the most nodes earn in one day)");
  }
  const maxFeesPerDay = amount(maxText, "--max-fees-per-day");
  if (maxFeesPerDay < feePerReplacement) {
    throw new UsageError(
      `--max-fees-per-day: ${maxFeesPerDay} is below --fee-per-replacement ${feePerReplacement} (not one replacement a day)`,
    );
  }
  return { enabled: true, feePerReplacement, maxFeesPerDay };
}

/** Hands the app to every live node and says which got it; fails only when no node did. */
export async function handOverAndReport(
  ctx: Context,
  client: PodnetClientWithActions,
  vault: Address,
  dir: string,
): Promise<HandoverResult[]> {
  ctx.out.progress("handing the app to the network's live nodes");
  const results = await handAppToNetwork(client, { vault, dir });
  for (const r of results) {
    ctx.out.progress(
      r.ok
        ? `  ${r.node} (${r.endpoint}): holds the app${r.uploaded.length > 0 ? `, ${r.uploaded.length} blob(s) uploaded` : ""}`
        : `  ${r.node} (${r.endpoint}): FAILED: ${r.error}`,
    );
  }
  return results;
}

export function handoverSummary(results: HandoverResult[]): string {
  if (results.length === 0) return "no live node (run podnet app hand-over when nodes join)";
  const ok = results.filter((r) => r.ok).length;
  return `${ok} of ${results.length} live node(s) hold the app${ok < results.length ? " (podnet app hand-over retries)" : ""}`;
}

export const appHandOver: CommandModule = {
  options: {
    dir: { type: "string", value: "folder", description: "the folder with pod.yaml and app.yaml (default: .)" },
  },
  help: `Hands a network-mode app to every live autoscaler node again (e.g. to nodes that joined since): each node
gets the content keys of the blobs pod.yaml names wrapped to its registered X25519 key, the ciphertext it
lacks, and pod.yaml and app.yaml in a bundle you sign for that node. A node that fails does not stop the
others; the output says which hold the app. pod.yaml and app.yaml must match the vault's hashes.

example:
  podnet app hand-over 0x5FbDB2315678afecb367f032d93F642f64180aa3 --dir my-app`,
  async run(ctx, args) {
    if (args.positionals.length > 1) throw new UsageError(`app hand-over: unexpected argument ${args.positionals[1]}`);
    const vaultText = args.positionals[0];
    if (vaultText === undefined) throw new UsageError("app hand-over: give the app's vault address");
    const vault = addressOption(vaultText, "<vault>") as Address;
    const dir = ctx.path(stringOption(args, "dir") ?? ".");
    const client = await ctx.client("required");
    const results = await handOverAndReport(ctx, client, vault, dir);
    ctx.out.result({ vault, nodes: results }, () =>
      fields([
        ["app", vault],
        ["network", handoverSummary(results)],
      ]),
    );
    if (results.length > 0 && results.every((r) => !r.ok)) {
      throw new CliError("no node took the app (see the lines above)");
    }
  },
};

export function networkTermsText(terms: NetworkTermsInput, token: TokenInfo | undefined): string {
  return `network mode, ${formatAmount(terms.feePerReplacement, token)} per replacement, at most ${formatAmount(terms.maxFeesPerDay, token)} a day`;
}

/** Sends the vault's `setNetworkTerms` (owner only), through the SDK's action. */
export async function setNetworkTerms(
  client: PodnetClientWithActions,
  vault: Address,
  terms: NetworkTermsInput,
): Promise<Hex> {
  return (await setAppNetworkTerms(client, { vault, ...terms })).txHash;
}

/**
 * The app's network terms and, in network mode, the live node that serves it now (`servingNode`, rendezvous over the
 * live nodes: the rule every node applies), or undefined when the app is not in network mode.
 */
export async function networkServing(
  client: PodnetClientWithActions,
  vault: Address,
): Promise<{ terms: NetworkTermsInput; servedBy?: { node: Address; endpoint: string } } | undefined> {
  const { enabled, feePerReplacement, maxFeesPerDay } = await getAppNetworkTerms(client, { vault });
  if (!enabled) return undefined;
  const terms = { enabled, feePerReplacement, maxFeesPerDay };
  const nodes = await readLiveNodes(client);
  const node = servingNode(
    vault,
    nodes.map((n) => n.address),
  );
  const served = nodes.find((n) => n.address === node);
  return { terms, ...(served ? { servedBy: { node: served.address, endpoint: served.endpoint } } : {}) };
}
