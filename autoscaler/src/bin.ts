// The podnet-autoscaler daemon's entry point (run with tsx, or bundled into the sidecar image): reads the
// configuration, starts the autoscaler and stops it on SIGINT/SIGTERM. It exports nothing.

import { deriveSelfEncryptionKey } from "@podnet/sdk";
import { privateKeyToAccount } from "viem/accounts";
import { startAutoscaler } from "./autoscaler.js";
import { ConfigError, describeConfig, loadConfig, loadControllerKey, loadNodeConfig } from "./config.js";
import { startNode } from "./network/node.js";
import { runNodeCommand } from "./network/node-commands.js";

const usage = `podnet-autoscaler: keeps an app's instances alive across providers, paid from its AppVault

  podnet-autoscaler run     [--flag value ...]   reconcile the app until stopped; status on --status-port
  podnet-autoscaler config  [--flag value ...]   print the effective configuration (no key)
  podnet-autoscaler key     [--controller-key-file F]
                            print the controller's blob cache key (X25519, public), the --recipient of
                            \`podnet app share-keys\`; needs only the controller key

  podnet-autoscaler node run       [--flag value ...]   a node of the autoscaler network: heartbeats, and the
                                                       network-mode apps assigned to it (API on --api-port)
  podnet-autoscaler node config    [--flag value ...]   print the node's effective configuration (no key)
  podnet-autoscaler node register  --endpoint URL --stake <base units> [--dns-ipv4 a.b.c.d] [--dns-ipv6 addr]
  podnet-autoscaler node key       print the node's X25519 public key (what apps' content keys are wrapped to)
  podnet-autoscaler node exit      leave the network (stake withdrawable after the exit delay)
  podnet-autoscaler node withdraw  take the stake back after the exit delay

Settings come from PODNET_AUTOSCALER_<SETTING> environment variables or flags (--vault 0x…). The controller key:
--controller-key-file or PODNET_AUTOSCALER_CONTROLLER_KEY, never a flag; a node's key: --node-key-file or
PODNET_AUTOSCALER_NODE_KEY. See docs/autoscaler.md and docs/autoscaler-network.md.`;

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "help") {
    console.log(usage);
    return;
  }
  if (command === "key") {
    // The controller's own cache key: derived from a signature, so only the key's holder can compute it.
    const account = privateKeyToAccount(loadControllerKey({ argv: rest }));
    const self = await deriveSelfEncryptionKey((message) => account.signMessage({ message }));
    console.log(self.publicKeyHex);
    return;
  }
  if (command === "node") {
    await node(rest);
    return;
  }
  const config = loadConfig({ argv: rest });
  switch (command) {
    case "config":
      console.log(JSON.stringify(describeConfig(config), null, 2));
      return;
    case "run": {
      const autoscaler = await startAutoscaler(config);
      const shutdown = async () => {
        await autoscaler.stop();
        process.exit(0);
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
      return;
    }
    default:
      throw new ConfigError(`${command}: unknown command\n\n${usage}`);
  }
}

async function node([sub, ...rest]: string[]) {
  if (sub === "run" || sub === "config") {
    const config = loadNodeConfig({ argv: rest });
    if (sub === "config") {
      console.log(JSON.stringify(describeConfig(config), null, 2));
      return;
    }
    const running = await startNode(config);
    const shutdown = async () => {
      await running.stop();
      process.exit(0);
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
    return;
  }
  console.log(await runNodeCommand(sub ?? "", rest));
}

main(process.argv.slice(2)).catch((error) => {
  console.error(
    error instanceof ConfigError ? `config error:\n${error.message}` : `error: ${(error as Error).message}`,
  );
  process.exit(error instanceof ConfigError ? 2 : 1);
});
