import { consoleLink } from "./admin/console-command.js";
import { ConfigError, describeConfig, loadConfig } from "./config.js";
import { registerProvider } from "./register.js";
import { startWorker } from "./worker.js";

const usage = `podnet-worker: the Podnet provider daemon

  podnet-worker run       [--config file.json] [--flag value ...]   follow the chain, run pods, serve the API
  podnet-worker register  [--config file.json] [--flag value ...]   register/update the provider and stake
  podnet-worker console   [--config file.json] [--flag value ...]   print a one-time sign-in link for the console
  podnet-worker config    [--config file.json] [--flag value ...]   print the effective configuration (no key)

Every setting can come from the JSON config file, from PODNET_<SETTING> environment variables or from flags
(--api-port 7070). The provider key: PODNET_PROVIDER_KEY (never put it on the command line of a shared machine).
See docs/worker.md for every setting.`;

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "help") {
    console.log(usage);
    return;
  }
  const config = loadConfig({ argv: rest });
  switch (command) {
    case "config":
      console.log(JSON.stringify(describeConfig(config), null, 2));
      return;
    case "console":
      console.log(consoleLink(config));
      return;
    case "register":
      await registerProvider(config);
      return;
    case "run": {
      const worker = await startWorker(config);
      const shutdown = async () => {
        await worker.stop();
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

main(process.argv.slice(2)).catch((error) => {
  console.error(
    error instanceof ConfigError ? `config error:\n${error.message}` : `error: ${(error as Error).message}`,
  );
  process.exit(error instanceof ConfigError ? 2 : 1);
});
