/**
 * The commands of `podnet`: names, argument synopsis, one-line summaries and a loader per command module, so that
 * `podnet init` does not load viem and the chain code it never uses.
 */
import type { CommandModule } from "./command-module.js";

export interface CommandInfo {
  /** One or two words: `deploy`, `image add`. */
  name: string;
  args: string;
  summary: string;
  load: () => Promise<CommandModule>;
}

export const commands: CommandInfo[] = [
  {
    name: "init",
    args: "[dir]",
    summary: "write a commented pod.yaml to start from",
    load: () => import("./commands/init.js"),
  },
  {
    name: "import compose",
    args: "<docker-compose.yml> [--out dir]",
    summary: "write pod.yaml (and app.yaml) from a docker-compose.yml",
    load: () => import("./commands/import.js").then((m) => m.compose),
  },
  {
    name: "import sdl",
    args: "<deploy.yaml> [--out dir]",
    summary: "write pod.yaml (and app.yaml) from an Akash SDL",
    load: () => import("./commands/import.js").then((m) => m.sdl),
  },
  {
    name: "image add",
    args: "<docker-save.tar | image>",
    summary: "encrypt a container image into the blob cache; prints its blob: ref",
    load: () => import("./commands/image.js"),
  },
  {
    name: "secret add",
    args: "<name> [--value-file F]",
    summary: "encrypt a secret file (from a file or stdin); prints its blob id",
    load: () => import("./commands/secret.js"),
  },
  {
    name: "providers",
    args: "[--spec pod.yaml | --cpu N --memory N]",
    summary: "search providers through the indexer, cheapest first",
    load: () => import("./commands/providers.js"),
  },
  {
    name: "quote",
    args: "<pod.yaml> [--provider addr]",
    summary: "ask a provider for a signed, verified price",
    load: () => import("./commands/quote.js"),
  },
  {
    name: "deploy",
    args: "<pod.yaml> [--provider addr | --market]",
    summary: "lease a provider, send the pod, wait until it runs",
    load: () => import("./commands/deploy.js"),
  },
  {
    name: "up",
    args: "[dir | file] [--provider addr | --market]",
    summary: "deploy a folder's pod.yaml or Compose file: local images encrypted, leased, running, its URL",
    load: () => import("./commands/up.js"),
  },
  {
    name: "status",
    args: "<leaseId>",
    summary: "the lease on chain and the pod at its provider",
    load: () => import("./commands/status.js"),
  },
  {
    name: "logs",
    args: "<leaseId> [-f]",
    summary: "a container's logs (follow with -f)",
    load: () => import("./commands/logs.js"),
  },
  {
    name: "update",
    args: "<leaseId> <pod.yaml>",
    summary: "replace a running pod with a new spec",
    load: () => import("./commands/update.js"),
  },
  {
    name: "top-up",
    args: "<leaseId> (--amount N | --duration 1h)",
    summary: "add funds to a lease's escrow",
    load: () => import("./commands/top-up.js"),
  },
  {
    name: "close",
    args: "<leaseId>",
    summary: "end a lease; the unspent escrow is refunded",
    load: () => import("./commands/close.js"),
  },
  {
    name: "balance",
    args: "",
    summary: "wallet tokens, escrow in active leases, allowance",
    load: () => import("./commands/balance.js"),
  },
  {
    name: "app create",
    args: "[--dir d] [--controller addr] [--network]",
    summary: "create an autoscaled app's vault from pod.yaml and app.yaml",
    load: () => import("./commands/app.js").then((m) => m.appCreate),
  },
  {
    name: "app fund",
    args: "<vault> <amount>",
    summary: "add tokens to an app's balance",
    load: () => import("./commands/app.js").then((m) => m.appFund),
  },
  {
    name: "app status",
    args: "<vault> [--dir d]",
    summary: "an app's balance, limits, controllers and instance slots",
    load: () => import("./commands/app.js").then((m) => m.appStatus),
  },
  {
    name: "app scale",
    args: "<vault> <n> [--dir d]",
    summary: "set the app's instance target (app.yaml and chain)",
    load: () => import("./commands/app.js").then((m) => m.appScale),
  },
  {
    name: "app update",
    args: "<vault> [--dir d]",
    summary: "record a changed pod.yaml or app.yaml on chain",
    load: () => import("./commands/app.js").then((m) => m.appUpdate),
  },
  {
    name: "app withdraw",
    args: "<vault> <amount|all>",
    summary: "take tokens out of an app's balance",
    load: () => import("./commands/app.js").then((m) => m.appWithdraw),
  },
  {
    name: "app destroy",
    args: "<vault>",
    summary: "close an app's leases and orders, withdraw its whole balance",
    load: () => import("./commands/app.js").then((m) => m.appDestroy),
  },
  {
    name: "app share-keys",
    args: "--recipient <x25519-key> --out <dir> [--dir d]",
    summary: "seal the app's content keys to an autoscaler's key, into its blob cache",
    load: () => import("./commands/share-keys.js").then((m) => m.appShareKeys),
  },
  {
    name: "app hand-over",
    args: "<vault> [--dir d]",
    summary: "hand a network-mode app to every live autoscaler node (again)",
    load: () => import("./commands/network.js").then((m) => m.appHandOver),
  },
  {
    name: "key new",
    args: "",
    summary: "create a key in an encrypted keystore",
    load: () => import("./commands/key.js").then((m) => m.keyNew),
  },
  {
    name: "key import",
    args: "",
    summary: "encrypt an existing private key (hex on stdin) into the keystore",
    load: () => import("./commands/key.js").then((m) => m.keyImport),
  },
  {
    name: "key address",
    args: "",
    summary: "the address podnet acts as",
    load: () => import("./commands/key.js").then((m) => m.keyAddress),
  },
  {
    name: "completion",
    args: "bash|zsh|fish",
    summary: "print the shell completion script (source <(podnet completion bash))",
    load: () => import("./commands/completion.js").then((m) => m.completionCommand(commands)),
  },
];

/** First words that only group subcommands. */
export const groups = new Set(commands.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[0] as string));

export function findCommand(words: readonly string[]): CommandInfo | undefined {
  return commands.find((c) => c.name === words.join(" "));
}
