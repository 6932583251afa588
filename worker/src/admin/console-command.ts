import type { WorkerConfig } from "../config.js";
import { loopbackOrigins } from "./deps.js";
import { readAdminOrigin } from "./origin-file.js";
import { createSignInLink } from "./sign-in-links.js";

/**
 * `podnet-worker console`: makes a one-time sign-in link (valid `adminLinkTtlSec`, once) and returns the text to
 * print. Run on the worker's machine as the worker's user: it writes the link's hash into the worker's data dir, which
 * is what proves the operator's access. The token is in the URL's fragment, which browsers do not send to servers.
 */
export function consoleLink(config: WorkerConfig, nowMs = Date.now()): string {
  if (!config.adminEnabled) throw new Error("adminEnabled: the admin API is off in this configuration");
  const token = createSignInLink(config.dataDir, config.adminLinkTtlSec, nowMs);
  const origin = config.adminUrl
    ? new URL(config.adminUrl).origin
    : config.adminPort !== 0
      ? loopbackOrigins(config.adminPort)[0]
      : readAdminOrigin(config.dataDir);
  if (!origin) throw new Error("adminPort is 0 and no worker has written its admin origin yet: start the worker first");
  const minutes = Math.round(config.adminLinkTtlSec / 60);
  return `Open this link within ${minutes} min to sign in to the worker's console (it works once):\n\n  ${origin}/admin/sign-in#token=${token}\n`;
}
