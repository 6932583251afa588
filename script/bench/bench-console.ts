/**
 * `npm run bench:console -- [--leases N] [--runs N] [--keep-logs]`: the console's page loads in real Chromium
 * (Debian's) against a real worker with --leases leases on chain (default 500), each page opened --runs times
 * (default 5) in a fresh navigation and timed in the page, from the navigation's start to its data rendered. Goal
 * (issue 18): every page in <= 1 s with 500 leases.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cleanupOnSignal, Devnet, devAccount, launchChromium, mint, TOKEN } from "@podnet/devnet";
import { createLeases, measurePageLoads, newSignedInPage } from "@podnet/devnet/bench/console";
import { fmt, load1, met, summarize, until } from "@podnet/devnet/bench/stats";
import { consoleLink } from "../../worker/src/admin/console-command.js";
import { readAdminOrigin } from "../../worker/src/admin/origin-file.js";
import type { WorkerConfig } from "../../worker/src/config.js";

/** Accounts no test file and no other bench uses: Docker objects are labelled with the provider's address. */
const PROVIDER_ACCOUNT = 73;
const PUBLISHER_ACCOUNT = 74;
const GOAL_MS = 1000;

async function main() {
  const { values } = parseArgs({
    options: {
      leases: { type: "string", default: "500" },
      runs: { type: "string", default: "5" },
      "keep-logs": { type: "boolean", default: false },
    },
  });
  const leases = Number(values.leases);
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(leases) || leases < 1 || leases > 5000) throw new Error("--leases: an integer 1..5000");
  if (!Number.isSafeInteger(runs) || runs < 1 || runs > 100) throw new Error("--runs: an integer 1..100");
  const keepLogs = values["keep-logs"] ?? false;
  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-console-"));
  let devnet: Devnet | undefined;
  let closeBrowser: (() => Promise<void>) | undefined;
  const cleanup = async () => {
    await closeBrowser?.();
    if (devnet) await devnet.stop();
    else if (!keepLogs) rmSync(dir, { recursive: true, force: true });
    if (keepLogs) console.log(`Logs kept in ${dir}`);
  };
  cleanupOnSignal(cleanup);
  try {
    const loadAtStart = load1();
    console.log("Setup: anvil, contracts, a provider's worker");
    devnet = await Devnet.start({ dir, removeDir: !keepLogs });
    const provider = await devnet.startProvider({
      index: PROVIDER_ACCOUNT,
      capacity: { cpuMillis: 64_000, memoryMiB: 65_536, storageMiB: 1_000_000 },
      env: { PODNET_MANIFEST_TIMEOUT_SEC: "3600" },
    });
    const publisher = devAccount(PUBLISHER_ACCOUNT).account;
    await mint(devnet.chain, publisher, 1_000_000n * TOKEN);
    console.log(`Creating ${leases} leases on chain`);
    const ids = await createLeases(devnet.chain, provider, publisher, leases, join(dir, "blobs"));
    // The worker records each lease as its event arrives; the pages are timed once it has all of them (its public
    // /health counts them), not while it is still catching up.
    const caughtUp = Date.now();
    await until(
      `the worker to record ${leases} leases`,
      async () => {
        // A worker busy catching up may answer slowly or 503 (degraded): both count as not yet.
        const health = await fetch(`${provider.worker.apiUrl}/health`, { signal: AbortSignal.timeout(5000) })
          .then((r) => r.json() as Promise<{ leases?: number }>)
          .catch(() => undefined);
        return (health?.leases ?? 0) >= leases ? true : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 500 },
    );
    console.log(
      `  the worker recorded all ${leases} leases ${fmt((Date.now() - caughtUp) / 1000)} s after the last one`,
    );
    const origin = readAdminOrigin(provider.worker.dataDir) as string;
    const config = { adminEnabled: true, dataDir: provider.worker.dataDir, adminLinkTtlSec: 600, adminPort: 0 };
    const link = /(http:\/\/\S+#token=[\w-]+)/.exec(consoleLink(config as WorkerConfig))?.[1] as string;
    const browser = await launchChromium();
    closeBrowser = () => browser.close();
    const page = await newSignedInPage(browser, link);
    console.log(`Timing each page ${runs} times (load ${loadAtStart} at start)`);
    const results = await measurePageLoads(page, origin, runs, ids[0] as bigint);
    console.log("");
    console.log(`| page (${leases} leases) | p50 ms | max ms | goal <= ${GOAL_MS} ms |`);
    console.log("|---|---:|---:|---|");
    for (const r of results) {
      const rows = r.rows === undefined ? "" : ` (${r.rows} rows)`;
      if (r.error) {
        console.log(`| ${r.view} | — | — | **${r.error}** |`);
        continue;
      }
      const s = summarize(r.samples);
      console.log(`| ${r.view}${rows} | ${fmt(s.p50)} | ${fmt(s.max)} | ${met(s.max <= GOAL_MS)} |`);
    }
    console.log("");
    console.log(
      `Command: npm run bench:console -- --leases ${leases} --runs ${runs}; load ${loadAtStart} -> ${load1()}`,
    );
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
