/**
 * The provider console in a real Chromium (Debian's, driven by playwright-core) against a real worker process on a
 * devnet chain with a real pod on Docker: sign-in with a wallet (a wrong signature refused) and with a one-time link,
 * the overview, a running lease with live usage and its logs, pausing and resuming the listing (the registry changes
 * on chain), withdrawing (the provider's token balance grows), every page rendered, and an expired session refused.
 * Each page's screenshot is saved under `.test-output/console/` (docs/console.md shows copies).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  clients,
  Devnet,
  devAccount,
  launchChromium,
  mint,
  publisherClient,
  type RunningProvider,
  repoRoot,
  TOKEN,
  testImageTarball,
  tokenBalance,
  webAppManifest,
} from "@podnet/devnet";
import { providerRegistryAbi } from "@podnet/sdk/protocol";
import Dockerode from "dockerode";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Hex, LocalAccount } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleLink } from "../worker/src/admin/console-command.js";
import { readAdminOrigin } from "../worker/src/admin/origin-file.js";
import type { WorkerConfig } from "../worker/src/config.js";

const SHOTS = join(repoRoot, ".test-output", "console");
const SESSION_TTL_SEC = 60;
const LOG_LINE = "console-e2e: pod started";
const docker = new Dockerode();
const publisherAccount = devAccount(71).account;
const stranger = devAccount(72).account;

let dir: string;
let devnet: Devnet;
let provider: RunningProvider;
let browser: Browser;
let origin: string;
let leaseId: bigint;
/** Signed in before the pod was deployed: expired by the last test. */
let earlyContext: BrowserContext;
let earlyExpiresAt: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-console-"));
  mkdirSync(SHOTS, { recursive: true });
  let tarball = "";
  await Promise.all([
    Devnet.start({ dir }).then((started) => {
      devnet = started;
    }),
    testImageTarball(docker, "podnet-test/console:1", join(dir, "console.tar")).then((t) => {
      tarball = t;
    }),
  ]);
  provider = await devnet.startProvider({
    index: 70,
    env: { PODNET_ADMIN_SESSION_TTL_SEC: String(SESSION_TTL_SEC), PODNET_USAGE_SAMPLE_SEC: "1" },
  });
  origin = readAdminOrigin(provider.worker.dataDir) as string;
  browser = await launchChromium();
  earlyContext = await browser.newContext();
  const early = await earlyContext.newPage();
  await signInWithLink(early);
  earlyExpiresAt = ((await pageGet(early, "/admin/v1/session")).body as { expiresAt: number }).expiresAt;

  // A real lease with a pod that writes a line to its log, then serves.
  await mint(devnet.chain, publisherAccount, 1_000_000n * TOKEN);
  const alice = publisherClient(devnet.chain, publisherAccount, { blobCacheDir: join(dir, "blobs") });
  const image = await alice.prepareImage({ tarball });
  devnet.untagBlobOnStop(image.cid);
  const manifest = webAppManifest(image.image, undefined, {
    command: ["sh", "-c", `echo '${LOG_LINE}'; exec httpd -f -p 8080 -h /www`],
  });
  const quoted = await alice.getQuote({ provider: provider.address, manifest });
  const lease = await alice.createLease({ ...quoted, deposit: quoted.quote.pricePerSecond * 3600n });
  leaseId = lease.leaseId;
  await alice.deployPod({ leaseId, manifest });
  try {
    await alice.waitForPod({ leaseId, timeoutMs: 60_000, intervalMs: 200 });
  } catch (error) {
    // What the worker did with the lease, for the next reader of a failed run.
    const log = readFileSync(provider.worker.logFile, "utf8").split("\n").slice(-60).join("\n");
    throw new Error(`${error}\n--- worker log (last 60 lines) ---\n${log}`);
  }
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function workerConfig(): WorkerConfig {
  return {
    adminEnabled: true,
    dataDir: provider.worker.dataDir,
    adminLinkTtlSec: 600,
    adminPort: 0,
  } as WorkerConfig;
}

/**
 * Navigates, once more when the browser aborted the navigation for a network change (ERR_NETWORK_CHANGED: Docker adds
 * and removes interfaces on this machine while other tests run), as a person would press reload.
 */
async function goto(page: Page, url: string) {
  try {
    await page.goto(url);
  } catch (error) {
    if (!String(error).includes("ERR_NETWORK_CHANGED")) throw error;
    await page.goto(url);
  }
}

async function signInWithLink(page: Page) {
  const seen = watch(page);
  const link = /(http:\/\/\S+#token=[\w-]+)/.exec(consoleLink(workerConfig()))?.[1] as string;
  await goto(page, link);
  // Playwright's default wait; a loaded fresh-clone run once ran out of it here, with nothing said of the page.
  await waitForView(page, "[data-page=Overview][data-ready=yes]", seen, 30_000);
}

/** A browser wallet (EIP-1193) whose key lives in this test process: the page asks, Node signs. */
async function withWallet(context: BrowserContext, offered: LocalAccount, signer: LocalAccount) {
  await context.exposeFunction("podnetTestSign", (hex: Hex) => signer.signMessage({ message: { raw: hex } }));
  await context.addInitScript((address: string) => {
    const w = globalThis as unknown as { ethereum: unknown; podnetTestSign: (hex: string) => Promise<string> };
    w.ethereum = {
      request: async ({ method, params }: { method: string; params?: string[] }) => {
        if (method === "eth_requestAccounts") return [address];
        if (method === "personal_sign") return w.podnetTestSign(params?.[0] as string);
        throw new Error(`unsupported ${method}`);
      },
    };
  }, offered.address);
}

/** What a page logged, failed to load or was refused, for the message of a failure that would otherwise say little. */
function watch(page: Page): string[] {
  const seen: string[] = [];
  const at = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  const started = performance.now();
  page.on("console", (m) => seen.push(`${at()} console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => seen.push(`${at()} pageerror: ${e.message}`));
  page.on("requestfailed", (r) => seen.push(`${at()} failed ${r.url()}: ${r.failure()?.errorText}`));
  page.on("response", (r) => seen.push(`${at()} ${r.status()} ${r.url()}`));
  return seen;
}

/** Waits for the sign-in view. Generous: in a loaded CI run this once took over 30 s. */
function signInView(page: Page, seen: string[]) {
  return waitForView(page, "[data-page=sign-in]", seen, 90_000);
}

/**
 * Waits for `selector`; on failure the error carries what the page showed, the status of the session request and the
 * page's own log (`seen`, from {@link watch}), for the next reader.
 */
async function waitForView(page: Page, selector: string, seen: string[], timeout: number) {
  try {
    await page.waitForSelector(selector, { timeout });
  } catch (error) {
    const shown = await page
      .locator("body")
      .textContent()
      .catch(() => "(no body)");
    const status = await page
      .evaluate(async () => (await fetch("/admin/v1/session")).status)
      .catch((e: Error) => e.message);
    throw new Error(
      `no ${selector}: the page shows ${JSON.stringify(shown)}; GET /session: ${status}; ${error}\npage log:\n${seen.join("\n")}`,
    );
  }
}

/** Whether `selector` matches on the page now (false while the page is between documents). */
const present = async (page: Page, selector: string) =>
  (await page
    .locator(selector)
    .count()
    .catch(() => 0)) > 0;

/**
 * How a console load ended: the sign-in view, the console's load error, the browser's own error page (a navigation it
 * aborted, after a network change), or none of them within 60 s ("loading").
 */
async function loadOutcome(page: Page): Promise<"sign-in" | "load-error" | "browser-error" | "loading"> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    if (page.url().startsWith("chrome-error:")) return "browser-error";
    if (await present(page, "[data-page=sign-in]")) return "sign-in";
    if (await present(page, "[data-testid=load-error]")) return "load-error";
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return "loading";
}

/**
 * GET `path` from inside `page` (its cookies, its origin): the status and the JSON body. Tried again when it failed
 * with no response ("Failed to fetch": once in a loaded run, right after the sign-in; a network change aborts requests
 * so), as a person would reload; the failure is printed.
 */
async function pageGet(page: Page, path: string): Promise<{ status: number; body: unknown }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.evaluate(async (url) => {
        const response = await fetch(url);
        return { status: response.status, body: await response.json().catch(() => undefined) };
      }, path);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("Failed to fetch")) throw error;
      console.log(`GET ${path} from the page, tried again: ${error}`);
    }
  }
}

async function open(page: Page, view: string, pageTitle: string) {
  await goto(page, `${origin}/admin#/${view}`);
  await page.waitForSelector(`[data-page="${pageTitle}"][data-ready=yes]`);
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function confirmAction(page: Page, testid: string, fields: Record<string, string> = {}) {
  await page.click(`[data-testid=${testid}]`);
  for (const [name, value] of Object.entries(fields)) await page.fill(`[role=dialog] input[name=${name}]`, value);
  await page.click(`[data-testid=${testid}-confirm]`);
  const result = page.locator(`[data-testid=${testid}-result]`);
  await result.waitFor();
  return result.textContent();
}

async function registryActive() {
  const status = await clients(devnet.chain).client.readContract({
    address: devnet.chain.deployment.contracts.providerRegistry.address,
    abi: providerRegistryAbi,
    functionName: "statusOf",
    args: [provider.address],
  });
  return status;
}

describe("console sign-in", () => {
  it("refuses a signature from another key, and a wallet offering another account; no session is opened", async () => {
    for (const [offered, signer] of [
      [provider.account, stranger],
      [stranger, stranger],
    ] as const) {
      const context = await browser.newContext();
      await withWallet(context, offered, signer);
      const page = await context.newPage();
      const seen = watch(page);
      await goto(page, `${origin}/admin`);
      await signInView(page, seen);
      await page.click("[data-testid=sign-in-wallet]");
      const error = await page.locator("[data-testid=sign-in-error]").textContent();
      expect(error).toMatch(/address|signature/i);
      expect((await context.cookies()).filter((c) => c.name === "podnet_admin")).toEqual([]);
      expect((await pageGet(page, "/admin/v1/overview")).status).toBe(401);
      await shot(page, "sign-in-refused");
      await context.close();
    }
  }, 240_000);

  it("reloads by itself when a module fails to load (a network change), and says so when it keeps failing", async () => {
    // A network change aborts every request in flight (ERR_NETWORK_CHANGED): Docker adding a container's interface did
    // it to this test in CI. It cannot be caused on cue, so the browser aborts the fetches here. Real failures still
    // happen in loaded runs (twice in about a dozen: a reload that never showed the sign-in view, a fetch that failed):
    // each takes one of the console's retries, or fails a reload itself (the browser's error page, which no script of
    // the console can leave). An attempt that saw a failed request this test did not abort, and did not end as asked,
    // is tried again (up to three attempts), its page log printed; one that saw none must end as asked.
    // How many loads the route aborts, how the page must end, and the aborts that takes (the console tries 4 times).
    for (const [aborted, shown, expectedFailures] of [
      [2, "sign-in", 2],
      [Number.POSITIVE_INFINITY, "load-error", 4],
    ] as const) {
      for (let attempt = 1; ; attempt++) {
        const context = await browser.newContext();
        let failures = 0;
        await context.route("**/admin/assets/pages/sign-in.js", (route) => {
          if (failures >= aborted) return route.continue();
          failures++;
          return route.abort("internetdisconnected");
        });
        const page = await context.newPage();
        const seen = watch(page);
        await goto(page, `${origin}/admin`);
        // Two reloads (250 and 500 ms back-off), each loading the console's modules again: seconds on a busy machine.
        const ended = await loadOutcome(page);
        const asAsked = ended === shown && failures === expectedFailures;
        // Not the aborts of this test's route (ERR_INTERNET_DISCONNECTED), nor those of the page's own reloads
        // (ERR_ABORTED: a reload cancels the fetches still in flight).
        const realFailures = seen.filter(
          (line) => / failed /.test(line) && !/ERR_INTERNET_DISCONNECTED|ERR_ABORTED/.test(line),
        );
        const outcome = `${ended} after ${failures} aborted loads (attempt ${attempt}; failed requests not aborted by this test: ${realFailures.length})`;
        if (!asAsked && realFailures.length > 0 && attempt < 3) {
          console.log(`console reload, tried again: ${outcome}\npage log:\n${seen.join("\n")}`);
          await context.close();
          continue;
        }
        if (!asAsked) {
          throw new Error(
            `expected ${shown} after ${expectedFailures} aborted loads, got ${outcome}\npage log:\n${seen.join("\n")}`,
          );
        }
        if (shown === "load-error") {
          expect(await page.locator("[data-testid=load-error]").textContent()).toMatch(/did not load after 4 tries/);
        }
        await context.close();
        break;
      }
    }
  }, 360_000);

  it("signs in with the provider's wallet (EIP-4361) and shows the overview", async () => {
    const context = await browser.newContext();
    await withWallet(context, provider.account, provider.account);
    const page = await context.newPage();
    const seen = watch(page);
    await goto(page, `${origin}/admin`);
    await signInView(page, seen);
    await shot(page, "sign-in");
    await page.click("[data-testid=sign-in-wallet]");
    await page.waitForSelector("[data-page=Overview][data-ready=yes]");
    expect(await page.locator("[data-testid=listing]").textContent()).toContain("active");
    expect(await page.locator("[data-testid=leases-count]").textContent()).toContain("1");
    await page.waitForSelector("[data-testid=live][data-live=yes]");
    await shot(page, "overview");
    await context.close();
  }, 120_000);
});

describe("console with a running lease", () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    context = await browser.newContext({ acceptDownloads: true });
    page = await context.newPage();
    await signInWithLink(page);
  });

  afterAll(() => context?.close());

  it("lists the running lease, shows live usage without a reload, and opens its logs", async () => {
    await open(page, "leases", "Leases");
    const row = page.locator(`[data-lease="${leaseId}"]`);
    await expect.poll(() => row.textContent()).toContain("running");
    await shot(page, "leases");

    await open(page, "capacity", "Capacity");
    // The sampler publishes every second here: the figure on the page changes while the page stays loaded.
    const sampled = page.locator("p.muted");
    const first = await sampled.textContent();
    await expect.poll(() => sampled.textContent(), { timeout: 15_000 }).not.toBe(first);
    expect(await page.locator("[data-testid=usage-memoryMiB]").textContent()).toMatch(/\d+ MiB in use/);
    await shot(page, "capacity");

    await open(page, `leases/${leaseId}`, `Lease #${leaseId}`);
    expect(await page.locator("[data-testid=lease-logs]").textContent()).toContain(LOG_LINE);
    expect(await page.locator("[data-testid=lease-events]").textContent()).toMatch(/running/);
    await shot(page, "lease");
  });

  it("pauses and resumes the listing: the registry changes on chain", async () => {
    await open(page, "overview", "Overview");
    expect(await registryActive()).toBe(1);
    expect(await confirmAction(page, "pause")).toMatch(/transaction 0x[0-9a-f]{64}/);
    expect(await registryActive()).toBe(2);
    await expect.poll(() => page.locator("[data-testid=listing]").textContent()).toContain("paused");
    await shot(page, "overview-paused");
    expect(await confirmAction(page, "resume")).toMatch(/transaction 0x[0-9a-f]{64}/);
    expect(await registryActive()).toBe(1);
    await expect.poll(() => page.locator("[data-testid=listing]").textContent()).toContain("active");
  });

  it("withdraws: the provider's token balance grows, and the earnings page shows it", async () => {
    await open(page, "overview", "Overview");
    const before = await tokenBalance(devnet.chain, provider.address);
    expect(await confirmAction(page, "withdraw")).toMatch(/Withdrew .* net/);
    const after = await tokenBalance(devnet.chain, provider.address);
    expect(after).toBeGreaterThan(before);
    await open(page, "earnings", "Earnings");
    expect(await page.locator("[data-testid=earnings-net]").textContent()).not.toMatch(/^0 /);
    const download = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=earnings-csv]")]);
    const csv = await download[0].path().then((p) => import("node:fs").then((fs) => fs.readFileSync(p, "utf8")));
    expect(csv.split("\n")[0]).toMatch(/start.*gross.*fee.*net/);
    await shot(page, "earnings");
  });

  it("renders the bids, disputes, alerts and addons pages", async () => {
    for (const [view, title] of [
      ["market", "Bids and orders"],
      ["disputes", "Disputes and dark reports"],
      ["alerts", "Alerts"],
      ["addons", "Addons and tokens"],
    ] as const) {
      await open(page, view, title);
      await shot(page, view);
    }
    expect(await page.locator("[data-testid=addons-table]").textContent()).toContain("bidder");
  });

  it("retries a read the network aborted: the page still loads its data", async () => {
    let aborted = 0;
    await page.route("**/admin/v1/disputes**", (route) => {
      if (aborted >= 2) return route.continue();
      aborted++;
      return route.abort("internetdisconnected");
    });
    await open(page, "disputes", "Disputes and dark reports");
    expect(aborted).toBe(2);
    await page.unrouteAll();
  });
});

describe("console session expiry", () => {
  it("refuses an expired session: the page falls back to sign-in", async () => {
    const page = earlyContext.pages()[0] as Page;
    const wait = earlyExpiresAt - Date.now() + 500;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    expect((await pageGet(page, "/admin/v1/overview")).status).toBe(401);
    await goto(page, `${origin}/admin#/leases`);
    await page.waitForSelector("[data-page=sign-in]");
    await earlyContext.close();
  }, 90_000);
});
