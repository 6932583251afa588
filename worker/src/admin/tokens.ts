import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AdminScope } from "./scopes.js";
import { isSecretShaped, newSecret, secretHash, writePrivateFile } from "./secrets.js";

/** An addon's token as stored: its SHA-256, never the token. */
export interface StoredToken {
  id: string;
  name: string;
  scopes: AdminScope[];
  hash: string;
  createdAt: number;
  /** Milliseconds since the epoch; the token is refused from then on. */
  expiresAt: number;
  /** Minted for an addon the worker runs (addons/supervisor.ts): in memory only, revoked when the addon exits. */
  spawned?: true;
}

/** What the API shows of a token: everything but its hash. */
export type TokenInfo = Omit<StoredToken, "hash">;

/** Tokens kept at most: an addon per scope set is a handful, and the file stays small. */
export const MAX_TOKENS = 100;

/**
 * Scoped, revocable bearer tokens for addons, in `<dataDir>/admin/tokens.json` (mode 0600, hashes only). They outlive
 * a restart, unlike sessions: an addon keeps running across worker upgrades. A revoked token is removed from the map
 * and the file before the DELETE answers, so its next request is refused.
 */
export class AdminTokens {
  private readonly tokens = new Map<string, StoredToken>();
  private readonly path: string;

  constructor(
    dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.path = join(dataDir, "admin", "tokens.json");
    let stored: StoredToken[] = [];
    try {
      stored = JSON.parse(readFileSync(this.path, "utf8")).tokens ?? [];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`${this.path}: unreadable token file`);
    }
    for (const token of stored) this.tokens.set(token.hash, token);
  }

  /**
   * Creates a token; the returned `token` is shown once and not kept. A `spawned` token (an addon the worker starts)
   * is never written to the file: it lives as long as its process, and a restarted worker mints a new one.
   */
  create(
    name: string,
    scopes: AdminScope[],
    expiresInSec: number,
    { spawned = false } = {},
  ): { token: string; info: TokenInfo } {
    this.prune();
    if (this.tokens.size >= MAX_TOKENS) throw new Error(`at most ${MAX_TOKENS} tokens: revoke one first`);
    const token = newSecret();
    const now = this.now();
    const stored: StoredToken = {
      id: randomBytes(8).toString("hex"),
      name,
      scopes: [...new Set(scopes)],
      hash: secretHash(token),
      createdAt: now,
      expiresAt: now + expiresInSec * 1000,
      ...(spawned ? { spawned: true as const } : {}),
    };
    this.tokens.set(stored.hash, stored);
    if (!spawned) this.save();
    return { token, info: infoOf(stored) };
  }

  /** The live token a bearer value names, or undefined (unknown, revoked or expired). */
  find(bearer: string): TokenInfo | undefined {
    if (!isSecretShaped(bearer)) return undefined;
    const stored = this.tokens.get(secretHash(bearer));
    if (!stored || this.now() >= stored.expiresAt) return undefined;
    return infoOf(stored);
  }

  list(): TokenInfo[] {
    this.prune();
    return [...this.tokens.values()].map(infoOf);
  }

  /** Revokes a token by id: true when there was one. */
  revoke(id: string): boolean {
    for (const [hash, stored] of this.tokens) {
      if (stored.id !== id) continue;
      this.tokens.delete(hash);
      this.save();
      return true;
    }
    return false;
  }

  private prune() {
    const now = this.now();
    let changed = false;
    for (const [hash, stored] of this.tokens) {
      if (now >= stored.expiresAt) {
        this.tokens.delete(hash);
        changed = true;
      }
    }
    if (changed) this.save();
  }

  private save() {
    const kept = [...this.tokens.values()].filter((t) => !t.spawned);
    writePrivateFile(this.path, `${JSON.stringify({ tokens: kept }, null, 2)}\n`);
  }
}

function infoOf({ hash: _hash, ...info }: StoredToken): TokenInfo {
  return { ...info, scopes: [...info.scopes] };
}
