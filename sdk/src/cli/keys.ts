/**
 * The publisher's key for `podnet`: from PODNET_PUBLISHER_KEY, else from an encrypted keystore (Web3 Secret Storage
 * v3, default `~/.podnet/keystore.json`) whose password comes from PODNET_KEYSTORE_PASSWORD or a prompt without
 * echo when stdin is a terminal. The key is never printed, never part of --json output and never quoted in an
 * error: messages name the variable or file, not the value.
 */
import { existsSync, readFileSync } from "node:fs";
import { type Address, getAddress, type Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { loadKeystoreFile } from "../keystore.js";
import { CliError } from "./errors.js";
import type { Writable } from "./output.js";

/** What key handling reads from and writes to: the process's in the CLI, fakes in tests. */
export interface KeyIo {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown; isRaw?: boolean };
  stderr: Writable;
}

export const KEY_ENV = "PODNET_PUBLISHER_KEY";
export const PASSWORD_ENV = "PODNET_KEYSTORE_PASSWORD";

/**
 * A private key as the CLI accepts it: 64 hex digits, with or without 0x, surrounding whitespace ignored.
 * The error names `what` and never the text.
 */
export function normalizePrivateKey(text: string, what: string): Hex {
  const bare = text.trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(bare)) throw new CliError(`${what}: must be a 32-byte private key in hex (64 digits)`);
  const key = `0x${bare.toLowerCase()}` as Hex;
  try {
    privateKeyToAddress(key);
  } catch {
    throw new CliError(`${what}: not a valid secp256k1 private key`);
  }
  return key;
}

/** Reads a line from a terminal without echoing it (the prompt goes to stderr). */
export function readHidden(question: string, io: KeyIo): Promise<string> {
  const { stdin, stderr } = io;
  if (!stdin.isTTY || typeof stdin.setRawMode !== "function") {
    return Promise.reject(new CliError(`${question.replace(/:\s*$/, "")}: stdin is not a terminal to ask`));
  }
  return new Promise((resolve, reject) => {
    stderr.write(question);
    const wasRaw = stdin.isRaw ?? false;
    stdin.setRawMode?.(true);
    stdin.setEncoding("utf8");
    stdin.resume();
    let value = "";
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode?.(wasRaw);
      stdin.pause();
      stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string | Buffer) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003") return finish(new CliError("interrupted", 130));
        if (ch === "\u0004") {
          if (value === "") return finish();
          continue;
        }
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/** Everything on stdin (a pipe or file), as bytes. */
export async function readAllStdin(stdin: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * The keystore password: PODNET_KEYSTORE_PASSWORD, else asked on the terminal (twice when `confirm`, for a new
 * keystore).
 */
export async function keystorePassword(io: KeyIo, { confirm = false } = {}): Promise<string> {
  const fromEnv = io.env[PASSWORD_ENV];
  if (fromEnv !== undefined) {
    if (confirm && fromEnv === "") throw new CliError(`${PASSWORD_ENV}: must not be empty for a new keystore`);
    return fromEnv;
  }
  if (!io.stdin.isTTY) {
    throw new CliError(`${PASSWORD_ENV}: not set, and stdin is not a terminal to ask for the keystore password`);
  }
  const password = await readHidden("Keystore password: ", io);
  if (confirm) {
    if (password === "") throw new CliError("password: must not be empty");
    const again = await readHidden("Repeat the password: ", io);
    if (again !== password) throw new CliError("password: the two entries differ");
  }
  return password;
}

/**
 * The publisher key: PODNET_PUBLISHER_KEY, else the keystore at `keystorePath`. With `required: false` a missing
 * keystore gives undefined (read-only commands then run without a wallet).
 */
export async function loadPublisherKey(
  io: KeyIo,
  keystorePath: { value: string; source: string },
  { required }: { required: boolean },
): Promise<Hex | undefined> {
  const fromEnv = io.env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return normalizePrivateKey(fromEnv, KEY_ENV);
  if (!existsSync(keystorePath.value)) {
    if (!required) return undefined;
    throw new CliError(
      `no publisher key: set ${KEY_ENV}, or create a keystore with \`podnet key new\` or \`podnet key import\` ` +
        `(looked for ${keystorePath.value}, ${keystorePath.source})`,
    );
  }
  const password = await keystorePassword(io);
  return loadKeystoreFile(keystorePath.value, password);
}

/**
 * The address `podnet` would act as, without decrypting anything: from PODNET_PUBLISHER_KEY, else the keystore's
 * `address` field.
 */
export function publisherAddress(
  io: KeyIo,
  keystorePath: { value: string; source: string },
): { address: Address; source: string } {
  const fromEnv = io.env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    return { address: privateKeyToAddress(normalizePrivateKey(fromEnv, KEY_ENV)), source: KEY_ENV };
  }
  if (!existsSync(keystorePath.value)) {
    throw new CliError(
      `no publisher key: ${KEY_ENV} is not set and there is no keystore at ${keystorePath.value} (${keystorePath.source})`,
    );
  }
  let address: unknown;
  try {
    address = (JSON.parse(readFileSync(keystorePath.value, "utf8")) as { address?: unknown }).address;
  } catch {
    throw new CliError(`keystore: ${keystorePath.value} is not a JSON key file`);
  }
  if (typeof address !== "string" || !/^(0x)?[0-9a-fA-F]{40}$/.test(address)) {
    throw new CliError(`keystore: ${keystorePath.value} has no valid address field`);
  }
  return { address: getAddress(`0x${address.replace(/^0x/i, "")}`), source: keystorePath.value };
}
