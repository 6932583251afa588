/**
 * `podnet app ...`: an autoscaled app's vault from the owner's side. The app is pod.yaml (its spec hash) and app.yaml
 * (its config hash and the spending limits derived from it) in one folder; the vault on chain holds their hashes, the
 * limits, the controllers, the instance slots and the balance. See docs/cli.md#apps and docs/app-config.md.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { type Address, type Hex, keccak256, stringToBytes } from "viem";
import type { GetAppReturnType } from "../../actions/get-app.js";
import { parseAppYaml, setAppYamlTarget } from "../../app-yaml.js";
import type { PodnetClientWithActions } from "../../create-podnet-client.js";
import {
  type AppConfig,
  type AppLimits,
  appConfigHash,
  appConfigLimits,
  MAX_APP_INSTANCES,
  manifestHash,
} from "../../protocol/index.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { CommandModule } from "../command-module.js";
import type { Context, TokenInfo } from "../config.js";
import { CliError } from "../errors.js";
import { fields, table } from "../output.js";
import { readPodFile, writeFileAtomic } from "../pod-file.js";
import { formatAmount, formatTime, parseAmount, parseCount } from "../units.js";
import {
  handOverAndReport,
  handoverSummary,
  networkOptions,
  networkServing,
  networkTermsFromArgs,
  networkTermsText,
  setNetworkTerms,
} from "./network.js";
import { addressOption, fundingLine, listOption, stringOption, tokenOrUndefined } from "./shared.js";

const dirOption: OptionSpec = {
  dir: { type: "string", value: "folder", description: "the folder with pod.yaml and app.yaml (default: .)" },
};

/** The app's files: pod.yaml and app.yaml in `--dir`, validated (line:column errors), with their hashes. */
function readAppFiles(ctx: Context, args: ParsedArgs) {
  const dir = ctx.path(stringOption(args, "dir") ?? ".");
  const shown = (name: string) => join(stringOption(args, "dir") ?? ".", name);
  const pod = readPodFile(join(dir, "pod.yaml"), shown("pod.yaml"));
  const appFile = join(dir, "app.yaml");
  let text: string;
  try {
    text = readFileSync(appFile, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      `${shown("app.yaml")}: cannot read it (${code === "ENOENT" ? "no such file; podnet init --app writes one" : (code ?? "unreadable")})`,
    );
  }
  const config = parseAppYaml(text, shown("app.yaml"));
  return {
    dir,
    appFile,
    appShown: shown("app.yaml"),
    appText: text,
    config,
    specHash: manifestHash(pod.manifest),
    configHash: appConfigHash(config),
    limits: appConfigLimits(config),
  };
}

/** The `<vault>` positional. */
function vaultArgument(text: string | undefined, command: string): Address {
  if (text === undefined)
    throw new UsageError(`${command}: give the app's vault address (podnet app create prints it)`);
  return addressOption(text, "<vault>") as Address;
}

function positionals(args: ParsedArgs, command: string, max: number): (string | undefined)[] {
  if (args.positionals.length > max) throw new UsageError(`${command}: unexpected argument ${args.positionals[max]}`);
  return args.positionals;
}

const sameLimits = (a: AppLimits, b: AppLimits) =>
  a.maxPricePerSecond === b.maxPricePerSecond &&
  a.maxDepositPerLease === b.maxDepositPerLease &&
  a.maxInstances === b.maxInstances;

function limitsText(limits: AppLimits, token: TokenInfo | undefined): string {
  return `${limits.maxInstances} instances, ${formatAmount(limits.maxPricePerSecond, token)}/s each, deposit ≤ ${formatAmount(limits.maxDepositPerLease, token)}`;
}

/** The vault's owner must be the wallet: checked before sending, so the error names the owner instead of a revert. */
async function requireOwner(client: PodnetClientWithActions, app: GetAppReturnType): Promise<void> {
  const account = client.walletClient?.account?.address;
  if (account && account.toLowerCase() !== app.owner.toLowerCase()) {
    throw new CliError(`<vault>: ${app.vault} is owned by ${app.owner}, not by this key (${account})`);
  }
}

/** The salt of an app name: keccak256 of its UTF-8 bytes. */
export function appSalt(name: string): Hex {
  return keccak256(stringToBytes(name));
}

function appName(args: ParsedArgs, dir: string): string {
  const name = stringOption(args, "name") ?? basename(dir);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new UsageError(
      `--name: "${name}" must be 1-64 letters, digits, '.', '_' or '-' (it picks the app's address)`,
    );
  }
  return name;
}

export const appCreate: CommandModule = {
  options: {
    ...dirOption,
    name: {
      type: "string",
      value: "name",
      description: "the app's name: with your address it fixes the vault's address (default: the folder's name)",
    },
    controller: { type: "list", value: "address", description: "a controller (autoscaler key); repeatable" },
    "dry-run": { type: "boolean", description: "print the address, hashes and limits without creating anything" },
    ...networkOptions,
  },
  help: `Creates the app's vault from pod.yaml and app.yaml in --dir: spec hash = the manifest's hash, config hash =
app.yaml's canonical hash, limits from app.yaml (maxInstances = instances.target, maxPricePerSecond =
price.maxPerInstance, maxDepositPerLease = funding.depositPerLease). Prints the vault's address, which is
fixed by your address and --name before the vault exists. Fund it next with podnet app fund.

With --network the app is served by the autoscaler network: after creating the vault, setNetworkTerms
(every live node may act as its controller, paid --fee-per-replacement per lease it places, at most
--max-fees-per-day per UTC day), then the app is handed to every live node (content keys wrapped to each
node's key; see podnet app hand-over).

examples:
  podnet app create --dir my-app --controller 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
  podnet app create --dir my-app --network --fee-per-replacement 1000000 --max-fees-per-day 10000000
  podnet app create --dir my-app --dry-run`,
  async run(ctx, args) {
    positionals(args, "app create", 0);
    const terms = networkTermsFromArgs(args);
    const files = readAppFiles(ctx, args);
    const name = appName(args, files.dir);
    const controllers = listOption(args, "controller").map((c) => addressOption(c, "--controller") as Address);
    const salt = appSalt(name);
    const client = await ctx.client("required");
    const vault = await client.predictAppAddress({ salt });
    const token = await tokenOrUndefined(ctx);
    const plan = {
      vault,
      name,
      salt,
      specHash: files.specHash,
      configHash: files.configHash,
      limits: files.limits,
      controllers,
      ...(terms ? { network: terms } : {}),
    };
    const human = (txHash?: string) =>
      fields([
        ["app", vault],
        ["name", name],
        ["spec", files.specHash],
        ["config", files.configHash],
        ["limits", limitsText(files.limits, token)],
        [
          "controllers",
          controllers.length > 0 || terms
            ? [...controllers, ...(terms ? ["every live network node"] : [])].join(", ")
            : "none (podnet app status shows how to add)",
        ],
        ["network", terms ? networkTermsText(terms, token) : undefined],
        ["tx", txHash],
      ]);
    if (args.options["dry-run"] === true) {
      ctx.out.result({ ...plan, dryRun: true }, () => human());
      return;
    }
    if ((await client.publicClient.getCode({ address: vault })) !== undefined) {
      throw new CliError(`--name: you already have an app named ${name}, at ${vault} (podnet app status ${vault})`);
    }
    ctx.out.progress(`creating app ${name} at ${vault}`);
    const { txHash } = await client.createApp({
      salt,
      specHash: files.specHash,
      configHash: files.configHash,
      limits: files.limits,
      controllers,
    });
    if (!terms) {
      ctx.out.result({ ...plan, txHash }, () => `${human(txHash)}\n\nnext:\n  podnet app fund ${vault} <amount>`);
      return;
    }
    ctx.out.progress("network mode: setNetworkTerms");
    const termsTxHash = await setNetworkTerms(client, vault, terms);
    const handover = await handOverAndReport(ctx, client, vault, files.dir);
    ctx.out.result(
      { ...plan, txHash, networkTxHash: termsTxHash, handover },
      () =>
        `${human(txHash)}\n${fields([["handed to", handoverSummary(handover)]])}\n\nnext:\n  podnet app fund ${vault} <amount>`,
    );
  },
};

export const appFund: CommandModule = {
  options: {},
  help: `Adds tokens from your wallet to an app's balance (anyone may fund any app): one transaction with a permit
for exactly the amount when the token takes them, else an exact approval of the vault first.

example:
  podnet app fund 0x5FbDB2315678afecb367f032d93F642f64180aa3 86400000`,
  async run(ctx, args) {
    const [vaultText, amountText] = positionals(args, "app fund", 2);
    const vault = vaultArgument(vaultText, "app fund");
    if (amountText === undefined) throw new UsageError("app fund: give the amount (token base units)");
    const amount = parseAmount(amountText, "<amount>");
    const client = await ctx.client("required");
    const token = await tokenOrUndefined(ctx);
    await client.getApp({ vault }); // refuses an address that is not an app of this deployment
    ctx.out.progress(`funding app ${vault} with ${formatAmount(amount, token)}`);
    const funded = await client.fundApp({ vault, amount });
    const line = fundingLine(funded, amount, token)?.replace("the market", "the vault");
    if (line) ctx.out.progress(line);
    const { balance } = await client.getApp({ vault });
    ctx.out.result({ vault, amount, balance, txHash: funded.txHash, funding: funded.funding }, () =>
      fields([
        ["app", vault],
        ["added", formatAmount(amount, token)],
        ["balance", formatAmount(balance, token)],
        ["tx", funded.txHash],
      ]),
    );
  },
};

export const appStatus: CommandModule = {
  options: {
    dir: {
      type: "string",
      value: "folder",
      description: "also compare pod.yaml and app.yaml in this folder with the hashes on chain",
    },
  },
  help: `Shows an app's vault: owner, spec and config hashes, limits, controllers, balance, and each instance slot
with its lease (provider, price, escrow, when its funds run out).

example:
  podnet app status 0x5FbDB2315678afecb367f032d93F642f64180aa3 --dir my-app`,
  async run(ctx, args) {
    const [vaultText] = positionals(args, "app status", 1);
    const vault = vaultArgument(vaultText, "app status");
    const files = stringOption(args, "dir") !== undefined ? readAppFiles(ctx, args) : undefined;
    const client = await ctx.client("optional");
    const token = await tokenOrUndefined(ctx);
    const app = await client.getApp({ vault });
    const network = await networkServing(client, vault);
    const slots = await Promise.all(
      app.slots.map(async ({ slot, leaseId }) => {
        if (leaseId === 0n) return { slot, leaseId, lease: null };
        // At the app's block: a lease cleared or replaced meanwhile is not shown in a slot it no longer holds.
        const lease = await client.getLease({ leaseId, blockNumber: app.blockNumber });
        return {
          slot,
          leaseId,
          lease: {
            provider: lease.provider,
            status: lease.outOfFunds ? "out of funds" : lease.status,
            pricePerSecond: lease.pricePerSecond,
            balance: lease.balance,
            runsOutAt: lease.runsOutAt,
          },
        };
      }),
    );
    const inSync = files
      ? {
          spec: files.specHash === app.specHash,
          config: files.configHash === app.configHash,
          limits: sameLimits(files.limits, app.limits),
        }
      : undefined;
    const data = { ...app, slots, ...(inSync ? { files: inSync } : {}), ...(network ? { network } : {}) };
    ctx.out.result(data, () => {
      const sync = (ok: boolean) => (ok ? "matches the chain" : "differs from the chain: podnet app update");
      const head = fields([
        ["app", app.vault],
        ["owner", app.owner],
        ["balance", formatAmount(app.balance, token)],
        ["spec", `${app.specHash}${inSync ? ` (pod.yaml ${sync(inSync.spec)})` : ""}`],
        ["config", `${app.configHash}${inSync ? ` (app.yaml ${sync(inSync.config)})` : ""}`],
        ["limits", `${limitsText(app.limits, token)}${inSync && !inSync.limits ? " (app.yaml asks for others)" : ""}`],
        ["controllers", app.controllers.length > 0 ? app.controllers.join(", ") : "none"],
        [
          "network",
          network
            ? `${networkTermsText(network.terms, token)}; ${
                network.servedBy
                  ? `served by ${network.servedBy.node} (${network.servedBy.endpoint})`
                  : "no live node serves it now"
              }`
            : undefined,
        ],
        ["open orders", app.openOrders.toString()],
      ]);
      const rows = slots.map((s) =>
        s.lease
          ? [
              String(s.slot),
              s.leaseId.toString(),
              s.lease.provider,
              s.lease.status,
              `${s.lease.pricePerSecond}/s`,
              formatAmount(s.lease.balance, token),
              formatTime(s.lease.runsOutAt),
            ]
          : [String(s.slot), "-", "", "empty", "", "", ""],
      );
      const slotTable =
        rows.length > 0
          ? table(["slot", "lease", "provider", "status", "price", "escrow", "runs out"], rows)
          : "no slots (maxInstances 0)";
      return `${head}\n\n${slotTable}`;
    });
  },
};

export const appScale: CommandModule = {
  options: dirOption,
  help: `Sets instances.target in app.yaml (--dir) to <n>, records the new config hash on chain, and raises the vault's
maxInstances to <n> when it is lower. It never lowers maxInstances (scaling down needs no new limit: the
autoscaler clears the extra slots); podnet app update sets every limit exactly from app.yaml. The chain is
changed first: when a transaction fails, app.yaml stays as it was.

example:
  podnet app scale 0x5FbDB2315678afecb367f032d93F642f64180aa3 3 --dir my-app`,
  async run(ctx, args) {
    const [vaultText, countText] = positionals(args, "app scale", 2);
    const vault = vaultArgument(vaultText, "app scale");
    if (countText === undefined) throw new UsageError("app scale: give the number of instances");
    const target = parseCount(countText, "<n>", { min: 0, max: MAX_APP_INSTANCES });
    const files = readAppFiles(ctx, args);
    const text = setAppYamlTarget(files.appText, target, files.appShown);
    const config: AppConfig = parseAppYaml(text, files.appShown);
    const configHash = appConfigHash(config);
    const client = await ctx.client("required");
    const app = await client.getApp({ vault });
    await requireOwner(client, app);
    if (app.configHash !== files.configHash) {
      ctx.out.progress(
        `note: ${files.appShown} already differed from the chain's config; its other changes are recorded too`,
      );
    }
    const txHashes: string[] = [];
    let limits = app.limits;
    if (target > app.limits.maxInstances) {
      limits = { ...app.limits, maxInstances: target };
      ctx.out.progress(`raising maxInstances ${app.limits.maxInstances} → ${target}`);
      txHashes.push((await client.setAppLimits({ vault, limits })).txHash);
    }
    if (configHash !== app.configHash) txHashes.push((await client.setAppConfig({ vault, configHash })).txHash);
    writeFileAtomic(files.appFile, text);
    ctx.out.result({ vault, target, configHash, limits, txHashes }, () =>
      fields([
        ["app", vault],
        ["target", `${target} instances (${files.appShown} updated)`],
        ["config", configHash],
        ["maxInstances", String(limits.maxInstances)],
        ["txs", txHashes.length > 0 ? txHashes.join(", ") : "none (already so)"],
      ]),
    );
  },
};

export const appUpdate: CommandModule = {
  options: dirOption,
  help: `Brings the vault in line with pod.yaml and app.yaml in --dir: setSpec when the pod's hash changed (running
leases keep their spec until the autoscaler moves them), setConfig when app.yaml's hash changed, and
setLimits when the limits derived from app.yaml differ from the vault's. Sends nothing when all match.

example:
  podnet app update 0x5FbDB2315678afecb367f032d93F642f64180aa3 --dir my-app`,
  async run(ctx, args) {
    const [vaultText] = positionals(args, "app update", 1);
    const vault = vaultArgument(vaultText, "app update");
    const files = readAppFiles(ctx, args);
    const client = await ctx.client("required");
    const app = await client.getApp({ vault });
    await requireOwner(client, app);
    const changed: string[] = [];
    const txHashes: string[] = [];
    if (files.specHash !== app.specHash) {
      ctx.out.progress(`spec ${app.specHash} → ${files.specHash}`);
      txHashes.push((await client.setAppSpec({ vault, specHash: files.specHash })).txHash);
      changed.push("spec");
    }
    if (files.configHash !== app.configHash) {
      ctx.out.progress(`config ${app.configHash} → ${files.configHash}`);
      txHashes.push((await client.setAppConfig({ vault, configHash: files.configHash })).txHash);
      changed.push("config");
    }
    if (!sameLimits(files.limits, app.limits)) {
      ctx.out.progress("limits from app.yaml");
      txHashes.push((await client.setAppLimits({ vault, limits: files.limits })).txHash);
      changed.push("limits");
    }
    const token = await tokenOrUndefined(ctx);
    ctx.out.result(
      { vault, changed, specHash: files.specHash, configHash: files.configHash, limits: files.limits, txHashes },
      () =>
        fields([
          ["app", vault],
          ["changed", changed.length > 0 ? changed.join(", ") : "nothing (the chain already matches)"],
          ["spec", files.specHash],
          ["config", files.configHash],
          ["limits", limitsText(files.limits, token)],
        ]),
    );
  },
};

export const appWithdraw: CommandModule = {
  options: { to: { type: "string", value: "address", description: "send to this address (default: yours)" } },
  help: `Takes tokens out of an app's balance (owner only): <amount> in token base units, or "all". More than the
balance is refused before anything is sent.

examples:
  podnet app withdraw 0x5FbDB2315678afecb367f032d93F642f64180aa3 1000000
  podnet app withdraw 0x5FbDB2315678afecb367f032d93F642f64180aa3 all`,
  async run(ctx, args) {
    const [vaultText, amountText] = positionals(args, "app withdraw", 2);
    const vault = vaultArgument(vaultText, "app withdraw");
    if (amountText === undefined) throw new UsageError('app withdraw: give the amount (token base units) or "all"');
    const amount = amountText === "all" ? "all" : parseAmount(amountText, "<amount>");
    const to = addressOption(stringOption(args, "to"), "--to");
    const client = await ctx.client("required");
    const app = await client.getApp({ vault });
    await requireOwner(client, app);
    if (amount !== "all" && amount > app.balance) {
      throw new CliError(`<amount>: ${amount} is more than the app's balance ${app.balance}`);
    }
    const token = await tokenOrUndefined(ctx);
    const done = await client.withdrawFromApp({ vault, amount, ...(to ? { to } : {}) });
    ctx.out.result(done, () =>
      fields([
        ["app", vault],
        ["withdrawn", `${formatAmount(done.amount, token)} to ${done.to}`],
        ["balance", formatAmount(done.balance, token)],
        ["tx", done.txHash ?? "none (the app was empty)"],
      ]),
    );
  },
};

export const appDestroy: CommandModule = {
  options: { to: { type: "string", value: "address", description: "send the balance here (default: yours)" } },
  help: `Winds an app down (owner only): sets its limits to zero so no autoscaler can lease again, clears every slot
(closing running leases; their unspent escrow returns to the app), cancels its open orders, and withdraws the
whole balance to you. Safe to run again: it finishes what an interrupted run left and otherwise does nothing.
The vault stays on chain, empty.

example:
  podnet app destroy 0x5FbDB2315678afecb367f032d93F642f64180aa3`,
  async run(ctx, args) {
    const [vaultText] = positionals(args, "app destroy", 1);
    const vault = vaultArgument(vaultText, "app destroy");
    const to = addressOption(stringOption(args, "to"), "--to");
    const client = await ctx.client("required");
    const token = await tokenOrUndefined(ctx);
    const done = await client.destroyApp({ vault, ...(to ? { to } : {}) });
    ctx.out.result({ vault, ...done }, () =>
      fields([
        ["app", vault],
        ["limits", done.limitsZeroed ? "set to zero" : "already zero"],
        [
          "slots",
          done.clearedSlots.length > 0
            ? done.clearedSlots
                .map(
                  (s) => `${s.slot} (lease ${s.leaseId}${s.closed ? `, closed, refund ${s.refund}` : ", had ended"})`,
                )
                .join("; ")
            : "none held a lease",
        ],
        [
          "orders",
          done.cancelledOrders.length > 0
            ? done.cancelledOrders.map((o) => `${o.orderId} (refund ${o.refund})`).join("; ")
            : "none open",
        ],
        ["withdrawn", `${formatAmount(done.withdrawn, token)} to ${done.to}`],
      ]),
    );
  },
};
