/**
 * `npm run bench:blob [-- --mib N --runs N]`: what a blob costs the publisher and the provider, in process, no daemon:
 * sealing (`encryptBytes`: XChaCha20-Poly1305 in 64 KiB chunks), naming (`contentId`: sha2-256 of the ciphertext) and
 * opening (`decryptBytes`) `--mib` MiB of random bytes (default 64), `--runs` times (default 5). Prints the median and
 * best MB/s of each step and the CPU milliseconds of the median run. Every image a lease runs passes through all three:
 * the publisher seals and names it, the worker names it again on upload and opens it before the pod starts.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { fmt } from "@podnet/devnet/bench/stats";
import { contentId, decryptBytes, encryptBytes, generateContentKey } from "@podnet/sdk/protocol";

const { values } = parseArgs({
  options: { mib: { type: "string", default: "64" }, runs: { type: "string", default: "5" } },
});
const mib = Number(values.mib);
const runs = Number(values.runs);
if (!Number.isInteger(mib) || mib < 1 || mib > 1024)
  throw new Error(`--mib must be an integer in 1..1024, got ${values.mib}`);
if (!Number.isInteger(runs) || runs < 1 || runs > 100)
  throw new Error(`--runs must be an integer in 1..100, got ${values.runs}`);

const plaintext = new Uint8Array(randomBytes(mib * 2 ** 20));
const key = generateContentKey();

/** Wall and CPU milliseconds of `step`, and its result. */
function timed<T>(step: () => T): { result: T; ms: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = step();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { result, ms, cpuMs: (used.user + used.system) / 1000 };
}

const samples: Record<"seal" | "content id" | "open", { ms: number; cpuMs: number }[]> = {
  seal: [],
  "content id": [],
  open: [],
};
for (let run = 0; run < runs; run++) {
  const sealed = timed(() => encryptBytes(plaintext, key));
  samples.seal.push(sealed);
  samples["content id"].push(timed(() => contentId(sealed.result)));
  const opened = timed(() => decryptBytes(sealed.result, key));
  samples.open.push(opened);
  if (!Buffer.from(opened.result).equals(plaintext)) throw new Error("the opened blob differs from the plaintext");
}

const megabytes = (mib * 2 ** 20) / 1e6;
console.log(`| step, ${mib} MiB, ${runs} runs | median MB/s | best MB/s | CPU ms (median run) |`);
console.log("|---|---|---|---|");
for (const [step, list] of Object.entries(samples)) {
  const sorted = [...list].sort((a, b) => a.ms - b.ms);
  const median = sorted[Math.floor(sorted.length / 2)] as { ms: number; cpuMs: number };
  const best = sorted[0] as { ms: number };
  console.log(
    `| ${step} | ${fmt(megabytes / (median.ms / 1000))} | ${fmt(megabytes / (best.ms / 1000))} | ${fmt(median.cpuMs)} |`,
  );
}
