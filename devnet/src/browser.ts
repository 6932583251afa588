import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

/** Debian's Chromium (script/toolchain/browser.sh installs it); `npx playwright install` cannot work offline. */
export const CHROMIUM = process.env.PODNET_CHROMIUM ?? "/usr/bin/chromium";

/**
 * A headless Chromium for the console's browser tests and its page-load bench. The sandbox is off because tests run
 * as root in a container, where Chromium's own sandbox cannot start; the pages it loads are the worker's own.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM}: no Chromium; run script/toolchain/browser.sh (Debian's chromium) or set PODNET_CHROMIUM`,
    );
  }
  // Imported here, not at the top: every test process loads the harness, one file in seventy starts a browser, and
  // playwright-core costs about 0.6 CPU seconds to load.
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
  });
}
