import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSecretShaped, newSecret, secretHash } from "./secrets.js";

/** How long a link printed by `podnet-worker console` can be used, by default. */
export const DEFAULT_LINK_TTL_SEC = 600;

/**
 * One-time sign-in links. `podnet-worker console` (a separate process, the operator's shell on the worker's machine)
 * writes one file per link into `<dataDir>/admin/sign-in-links/`, named by the SHA-256 of the link's token and holding
 * only its expiry; the running worker redeems a token by deleting that file. No channel between the two processes is
 * needed (the CLI works whether the worker runs or not), the token itself never reaches the disk, and deletion is
 * atomic: of two requests with the same token only one unlink succeeds, so a link is used once.
 */
export function linksDir(dataDir: string) {
  return join(dataDir, "admin", "sign-in-links");
}

/** Makes a link token valid for `ttlSec` from `nowMs`; returns the token (to print, never to store). */
export function createSignInLink(dataDir: string, ttlSec = DEFAULT_LINK_TTL_SEC, nowMs = Date.now()): string {
  const dir = linksDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  pruneExpiredLinks(dataDir, nowMs);
  const token = newSecret();
  writeFileSync(join(dir, secretHash(token)), JSON.stringify({ expiresAt: nowMs + ttlSec * 1000 }), {
    mode: 0o600,
    flag: "wx",
  });
  return token;
}

/** Uses up a link token: true once for a valid, unexpired token; false for anything else and ever after. */
export function redeemSignInLink(dataDir: string, token: unknown, nowMs = Date.now()): boolean {
  if (!isSecretShaped(token)) return false;
  const path = join(linksDir(dataDir), secretHash(token));
  let expiresAt: number;
  try {
    expiresAt = Number(JSON.parse(readFileSync(path, "utf8")).expiresAt);
    // The unlink is the use: whoever removes the file first holds the link; an expired one is removed all the same.
    unlinkSync(path);
  } catch {
    return false;
  }
  return Number.isFinite(expiresAt) && nowMs < expiresAt;
}

export function pruneExpiredLinks(dataDir: string, nowMs = Date.now()) {
  const dir = linksDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      if (!(nowMs < Number(JSON.parse(readFileSync(path, "utf8")).expiresAt))) rmSync(path, { force: true });
    } catch {
      rmSync(path, { force: true });
    }
  }
}
