// The podnet-lb entry point: reads the configuration, starts the balancer and stops it on SIGINT/SIGTERM.
// It exports nothing.

import { LbConfigError, loadLbConfig } from "./config.js";
import { startLoadBalancer } from "./lb.js";

const usage = `podnet-lb: one stable HTTP address in front of an app's instances

  podnet-lb run     [--flag value ...]   balance until stopped
  podnet-lb config  [--flag value ...]   print the effective configuration

Settings come from PODNET_LB_<SETTING> environment variables or flags; --status-urls (the autoscalers'
GET /status URLs, comma-separated) is required. See docs/lb.md.`;

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "help") {
    console.log(usage);
    return;
  }
  const config = loadLbConfig({ argv: rest });
  switch (command) {
    case "config":
      console.log(JSON.stringify(config, null, 2));
      return;
    case "run": {
      const lb = await startLoadBalancer(config);
      const shutdown = async () => {
        await lb.stop();
        process.exit(0);
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
      return;
    }
    default:
      throw new LbConfigError(`${command}: unknown command\n\n${usage}`);
  }
}

main(process.argv.slice(2)).catch((error) => {
  console.error(
    error instanceof LbConfigError ? `config error:\n${error.message}` : `error: ${(error as Error).message}`,
  );
  process.exit(error instanceof LbConfigError ? 2 : 1);
});
