import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The admin API's bearer secrets (sign-in links, session ids, CSRF tokens, addon tokens): 32 random bytes, base64url.
 * Only their SHA-256 is kept, in memory or on disk: 256 random bits need no slow hash, and a leaked file or heap dump
 * gives nobody a usable secret.
 */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** 32 bytes as base64url: what {@link newSecret} makes and what a request may present. */
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function isSecretShaped(value: unknown): value is string {
  return typeof value === "string" && SECRET.test(value);
}

export function secretHash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Equal strings, compared in constant time (a CSRF token against the session's). */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Writes a file only its owner may read, atomically (a crash leaves the old file or the new one, never half). */
export function writePrivateFile(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
