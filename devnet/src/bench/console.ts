/**
 * The console's page-load figures (issue 18: every page in <= 1 s with 500 leases): leases made on chain for a real
 * worker, then each page opened in a fresh navigation in Chromium and timed in the page itself, from the navigation's
 * start (performance's time origin) to the moment the page marks its data rendered (`data-ready="yes"`).
 */

import type { Browser, Page } from "playwright-core";
import { type HDAccount, keccak256, stringToHex } from "viem";
import type { LocalChain } from "../chain.js";
import { signedQuote } from "../listing.js";
import type { RunningProvider } from "../provider.js";
import { publisherClient } from "../publisher.js";
import { Progress } from "./stats.js";

/** The console's views and the title each page shows (its `data-page`). */
export const CONSOLE_VIEWS: [view: string, title: string][] = [
  ["overview", "Overview"],
  ["capacity", "Capacity"],
  ["leases", "Leases"],
  ["earnings", "Earnings"],
  ["market", "Bids and orders"],
  ["disputes", "Disputes and dark reports"],
  ["alerts", "Alerts"],
  ["addons", "Addons and tokens"],
];

const LEASE_RESOURCES = { cpuMillis: 1, memoryMiB: 1, storageMiB: 1 };

/**
 * `count` leases from `publisher` on `provider`, each from a quote signed with the provider's key (as its worker
 * signs them) and one createLease transaction. No manifest follows: the worker keeps them active and waiting, which is
 * what the pages must list, without 500 containers on the bench machine.
 */
export async function createLeases(
  chain: LocalChain,
  provider: RunningProvider,
  publisher: HDAccount,
  count: number,
  blobCacheDir: string,
): Promise<bigint[]> {
  const sdk = publisherClient(chain, publisher, { blobCacheDir });
  const pricePerSecond = 1_000_000n;
  const progress = new Progress(Date.now());
  const ids: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const { quote, signature } = await signedQuote(chain, provider.account, {
      publisher: publisher.address,
      specHash: keccak256(stringToHex(`console bench lease ${i}`)),
      resources: LEASE_RESOURCES,
      pricePerSecond,
      // Far above the worker's own quote nonces, so none is reused.
      nonce: 1_000_000_000n + BigInt(i),
    });
    const { leaseId } = await sdk.createLease({ quote, signature, deposit: pricePerSecond * 3600n });
    ids.push(leaseId);
    progress.log(`${i + 1} of ${count} leases`);
  }
  return ids;
}

/**
 * Records, in the page, when `[data-ready=yes]` first appears (ms since the navigation started). A string: it runs in
 * the browser, whose DOM types this Node project does not compile against.
 */
const READY_PROBE = `
new MutationObserver((_, observer) => {
  if (window.podnetReadyAt === undefined && document.querySelector("[data-ready=yes]")) {
    window.podnetReadyAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-ready"] });
`;

export interface PageLoad {
  view: string;
  samples: number[];
  /** Why the page did not get ready (it then has fewer samples). */
  error?: string;
  /** Rows the leases page rendered (checks the page really listed them). */
  rows?: number;
}

/** Opens each view `runs` times in `page` (signed in), each a fresh navigation, and times it. */
export async function measurePageLoads(page: Page, origin: string, runs: number, leaseId: bigint): Promise<PageLoad[]> {
  await page.addInitScript({ content: READY_PROBE });
  const views: [string, string][] = [...CONSOLE_VIEWS, [`leases/${leaseId}`, `Lease #${leaseId}`]];
  const results: PageLoad[] = [];
  for (const [view, title] of views) {
    const samples: number[] = [];
    let rows: number | undefined;
    let error: string | undefined;
    for (let run = 0; run < runs && !error; run++) {
      // about:blank between runs: a hash change alone would not be a page load.
      await page.goto("about:blank");
      await page.goto(`${origin}/admin#/${view}`);
      try {
        await page.waitForSelector(`[data-page="${title}"][data-ready=yes]`, { timeout: 10_000 });
      } catch {
        const shown = await page
          .locator("[role=alert]")
          .first()
          .textContent({ timeout: 100 })
          .catch(() => null);
        error = shown ? `error: ${shown}` : "not ready within 10 s";
        break;
      }
      samples.push(await page.evaluate(() => (globalThis as unknown as { podnetReadyAt: number }).podnetReadyAt));
      if (view === "leases") rows = await page.locator("[data-lease]").count();
    }
    results.push({ view, samples, ...(rows === undefined ? {} : { rows }), ...(error ? { error } : {}) });
  }
  return results;
}

/** A page signed in with a one-time link (the session is open once the console leaves its sign-in view). */
export async function newSignedInPage(browser: Browser, link: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(link);
  await page.waitForSelector("[data-page=Overview]", { timeout: 60_000 });
  return page;
}
