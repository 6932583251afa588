// The podnet-dns daemon's entry point: reads the configuration file, serves the zone, stops on SIGINT/SIGTERM.
// It exports nothing.

import { createLogger } from "../log.js";
import { DnsConfigError, loadDnsConfig } from "./config.js";
import { startDnsServer } from "./server.js";

const usage = `podnet-dns: the authoritative nameserver of a Podnet app zone

  podnet-dns run    --config dns.json   serve the zone (UDP and TCP on listen.host:listen.port)
  podnet-dns check  --config dns.json   validate the configuration and print it

The file may also be given as PODNET_DNS_CONFIG. See docs/dns.md.`;

function configPath(args: string[]): string {
  const at = args.findIndex((arg) => arg === "--config" || arg.startsWith("--config="));
  const path =
    at < 0
      ? process.env.PODNET_DNS_CONFIG
      : (args[at] as string).includes("=")
        ? (args[at] as string).slice(9)
        : args[at + 1];
  if (!path) throw new DnsConfigError("--config: required (or set PODNET_DNS_CONFIG)");
  const unknown = args.filter((arg, i) => i !== at && i !== at + 1 && arg.startsWith("--"));
  if (unknown.length > 0) throw new DnsConfigError(`${unknown[0]}: unknown flag`);
  return path;
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "help") {
    console.log(usage);
    return;
  }
  const config = loadDnsConfig(configPath(rest));
  switch (command) {
    case "check":
      console.log(JSON.stringify(config, null, 2));
      return;
    case "run": {
      const server = await startDnsServer({ config, log: createLogger(config.logLevel) });
      const shutdown = async () => {
        await server.close();
        process.exit(0);
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
      return;
    }
    default:
      throw new DnsConfigError(`${command}: unknown command\n\n${usage}`);
  }
}

main(process.argv.slice(2)).catch((error) => {
  console.error(
    error instanceof DnsConfigError ? `config error:\n${error.message}` : `error: ${(error as Error).message}`,
  );
  process.exit(error instanceof DnsConfigError ? 2 : 1);
});
