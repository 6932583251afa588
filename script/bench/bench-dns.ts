/**
 * `npm run bench:dns -- [--seconds N] [--no-doc]`: podnet-dns on its own (issue 17's goals: >= 10,000 queries/s over
 * UDP from one process, p99 <= 5 ms at 2,000 queries/s). `npm run bench` runs the same measurement as a step.
 * The real `podnet-dns run` child process, a real HTTP /status, dnsperf and a Node client (devnet/src/bench/dns.ts).
 * Prints a markdown table and writes it into its own section of docs/benchmarks.md (unless --no-doc).
 */
import { parseArgs } from "node:util";
import { dnsRows, measureDns } from "@podnet/devnet/bench/dns";
import { writeDocSection } from "@podnet/devnet/bench/report";
import { load1, machineText, progressLog } from "@podnet/devnet/bench/stats";

async function main() {
  const { values } = parseArgs({
    options: { seconds: { type: "string", default: "10" }, "no-doc": { type: "boolean", default: false } },
  });
  const seconds = Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600) {
    throw new Error(`--seconds must be a whole number from 1 to 600, got "${values.seconds}"`);
  }
  const command = `npm run bench:dns${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const loadAtStart = load1();
  console.log("podnet-dns");
  const result = await measureDns({ seconds, progress: progressLog() });
  const table = [
    `Run ${new Date().toISOString()} with \`${command}\`.`,
    "",
    `- Machine: ${machineText()}`,
    `- Load average (1 min) at the start / the end: ${loadAtStart} / ${load1()} (2 cores shared with other work)`,
    "- Server: `podnet-dns run` as a child process, one app of 3 healthy instances from a real HTTP /status",
    "",
    "| measure | value | goal | |",
    "|---|---|---|---|",
    ...dnsRows(result),
  ].join("\n");
  console.log(`\n${table}\n`);
  if (!values["no-doc"]) writeDocSection("benchmarks.md", "dns", `## App DNS (\`npm run bench:dns\`)\n\n${table}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
