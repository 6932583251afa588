import { newSecret, secretHash } from "./secrets.js";

/** Sessions kept at most; past it the oldest is signed out first. */
export const MAX_SESSIONS = 64;

export interface AdminSession {
  /** How the session was opened: a one-time link or an EIP-4361 signature by this address. */
  via: "link" | `siwe:${string}`;
  /** The synchronizer CSRF token: state-changing requests must send it back in `x-csrf-token`. */
  csrf: string;
  expiresAt: number;
}

/**
 * Console sessions, in memory: keyed by the SHA-256 of the session id the cookie carries (a heap dump holds no usable
 * id). A worker restart signs everyone out, which is the safe side. Expiry is absolute (`adminSessionTtlSec` after
 * sign-in), not sliding, so a stolen cookie is not kept alive by use.
 */
export class AdminSessions {
  private readonly byHash = new Map<string, AdminSession>();

  constructor(
    private readonly ttlSec: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Opens a session; returns its id (for the cookie only) and its CSRF token. */
  open(via: AdminSession["via"]): { id: string; session: AdminSession } {
    this.prune();
    while (this.byHash.size >= MAX_SESSIONS) {
      const oldest = this.byHash.keys().next().value as string;
      this.byHash.delete(oldest);
    }
    const id = newSecret();
    const session: AdminSession = { via, csrf: newSecret(), expiresAt: this.now() + this.ttlSec * 1000 };
    this.byHash.set(secretHash(id), session);
    return { id, session };
  }

  /** The live session of a cookie value, or undefined (unknown, forged or expired). */
  get(id: string | undefined): AdminSession | undefined {
    if (!id) return undefined;
    const hash = secretHash(id);
    const session = this.byHash.get(hash);
    if (!session) return undefined;
    if (this.now() >= session.expiresAt) {
      this.byHash.delete(hash);
      return undefined;
    }
    return session;
  }

  close(id: string | undefined) {
    if (id) this.byHash.delete(secretHash(id));
  }

  get size() {
    this.prune();
    return this.byHash.size;
  }

  private prune() {
    const now = this.now();
    for (const [hash, session] of this.byHash) if (now >= session.expiresAt) this.byHash.delete(hash);
  }
}
