import { createCipheriv, randomBytes as nodeRandomBytes, pbkdf2Sync, timingSafeEqual } from "node:crypto";
import { open, readFile, rm } from "node:fs/promises";
import { scrypt as nobleScrypt } from "@noble/hashes/scrypt.js";
import { concat, type Hex, keccak256, stringToBytes } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { PodnetError, type PodnetErrorParameters } from "./protocol/errors.js";

// PBKDF2 and AES are Node's own (OpenSSL's), keccak viem's, the key check a comparison with the curve's order: no second
// secp256k1 library beside viem's in every process that imports the SDK (importing @noble/curves' alone cost 34 ms of
// CPU over a bare Node start). scrypt stays @noble's: OpenSSL refuses N >= 2^(16 r) (RFC 7914), which files with r = 1
// ask for, the Web3 Secret Storage test vector among them.
const bytesToHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const hexToBytes = (digits: string) => new Uint8Array(Buffer.from(digits, "hex"));
const randomBytes = (length: number) => new Uint8Array(nodeRandomBytes(length));
/** The order of secp256k1's group: a private key is an integer from 1 to N - 1. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const isValidSecretKey = (key: Uint8Array) => {
  const k = BigInt(`0x${bytesToHex(key)}`);
  return key.length === 32 && k > 0n && k < SECP256K1_N;
};
/** AES-128-CTR: encryption and decryption are the same keystream XOR. */
const aes128Ctr = (key: Uint8Array, iv: Uint8Array, data: Uint8Array) => {
  const cipher = createCipheriv("aes-128-ctr", key, iv);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
};
const scrypt = (password: Uint8Array, salt: Uint8Array, N: number, r: number, p: number, dkLen: number) =>
  nobleScrypt(password, salt, { N, r, p, dkLen, maxmem: MAX_SCRYPT_MEMORY + 1024 });

/**
 * Ethereum key files: the Web3 Secret Storage format, version 3, as geth, Foundry (`cast wallet`), ethers and
 * MetaMask write them. The private key is encrypted with AES-128-CTR under the first half of a key derived from the
 * password (scrypt; pbkdf2 files are read too), and `mac = keccak256(derivedKey[16:32] ++ ciphertext)` tells a wrong
 * password from a right one. The password is used as its UTF-8 bytes, without normalisation, like geth and Foundry.
 */

/** scrypt cost written by {@link encryptKeystore}: 2^17, as ethers (geth's "standard" is 2^18, its "light" 2^12). */
export const DEFAULT_SCRYPT_N = 2 ** 17;
const DEFAULT_SCRYPT_R = 8;
const DEFAULT_SCRYPT_P = 1;
// Bounds on what a file may ask for: a hostile key file must not take gigabytes of memory or minutes of CPU.
const MAX_SCRYPT_MEMORY = 1024 ** 3;
const MAX_SCRYPT_P = 16;
const MAX_PBKDF2_ROUNDS = 10_000_000;

/** A version 3 key file, as {@link encryptKeystore} writes it (JSON.stringify it to save it). */
export interface Keystore {
  version: 3;
  id: string;
  /** The key's address: 40 lowercase hex digits, no 0x (as geth writes it). */
  address: string;
  crypto: {
    cipher: "aes-128-ctr";
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: "scrypt";
    kdfparams: { dklen: 32; n: number; r: number; p: number; salt: string };
    mac: string;
  };
}

export interface EncryptKeystoreOptions {
  /** scrypt cost, a power of two; default {@link DEFAULT_SCRYPT_N}. Lower it only for tests. */
  scryptN?: number;
  /** scrypt block size; default 8. */
  scryptR?: number;
  /** scrypt parallelism; default 1. */
  scryptP?: number;
  /** 32 random bytes unless given (tests and known vectors only). */
  salt?: Uint8Array;
  /** 16 random bytes unless given (tests and known vectors only). */
  iv?: Uint8Array;
  /** A random UUID v4 unless given. */
  id?: string;
}

export type KeystoreErrorType = KeystoreError & { name: "KeystoreError" };

/** A key file could not be read, written or decrypted; the message names the field or the reason. */
export class KeystoreError extends PodnetError {
  override name = "KeystoreError";
  constructor(message: string, options?: Pick<PodnetErrorParameters, "cause">) {
    super("KEYSTORE", message, { ...options, docsPath: "docs/cli.md#keys" });
  }
}

function privateKeyBytes(privateKey: Hex): Uint8Array {
  if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey))
    throw new KeystoreError("keystore: the private key must be 32 bytes of hex");
  const bytes = hexToBytes(privateKey.slice(2));
  if (!isValidSecretKey(bytes)) {
    throw new KeystoreError("keystore: the private key is not a valid secp256k1 key");
  }
  return bytes;
}

function uuidV4(): string {
  const bytes = randomBytes(16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytesToHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function checkScrypt(n: number, r: number, p: number, path: string): void {
  const param = (name: string, value: number, ok: boolean, rule: string) => {
    if (!Number.isSafeInteger(value) || !ok) throw new KeystoreError(`keystore: ${path}.${name} must be ${rule}`);
  };
  param("n", n, n > 1 && (n & (n - 1)) === 0, "a power of two above 1");
  param("r", r, r >= 1, "a positive integer");
  param("p", p, p >= 1 && p <= MAX_SCRYPT_P, `an integer from 1 to ${MAX_SCRYPT_P}`);
  if (128 * n * r > MAX_SCRYPT_MEMORY) {
    throw new KeystoreError(`keystore: ${path} asks for more than ${MAX_SCRYPT_MEMORY / 1024 ** 2} MiB (128 * n * r)`);
  }
}

function mac(derivedKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return keccak256(concat([derivedKey.subarray(16, 32), ciphertext]), "bytes");
}

/**
 * Encrypts a private key into a version 3 key file. Takes about half a second at the default cost, on purpose.
 *
 * @example
 * const keystore = encryptKeystore(generatePrivateKey(), password);
 * writeFileSync("key.json", JSON.stringify(keystore), { mode: 0o600 });
 */
export function encryptKeystore(privateKey: Hex, password: string, opts: EncryptKeystoreOptions = {}): Keystore {
  const key = privateKeyBytes(privateKey);
  const n = opts.scryptN ?? DEFAULT_SCRYPT_N;
  const r = opts.scryptR ?? DEFAULT_SCRYPT_R;
  const p = opts.scryptP ?? DEFAULT_SCRYPT_P;
  checkScrypt(n, r, p, "options.scrypt");
  const salt = opts.salt ?? randomBytes(32);
  const iv = opts.iv ?? randomBytes(16);
  if (iv.length !== 16) throw new KeystoreError("keystore: options.iv must be 16 bytes");
  const derivedKey = scrypt(stringToBytes(password), salt, n, r, p, 32);
  const ciphertext = aes128Ctr(derivedKey.subarray(0, 16), iv, key);
  return {
    version: 3,
    id: opts.id ?? uuidV4(),
    address: privateKeyToAddress(privateKey).slice(2).toLowerCase(),
    crypto: {
      cipher: "aes-128-ctr",
      cipherparams: { iv: bytesToHex(iv) },
      ciphertext: bytesToHex(ciphertext),
      kdf: "scrypt",
      kdfparams: { dklen: 32, n, r, p, salt: bytesToHex(salt) },
      mac: bytesToHex(mac(derivedKey, ciphertext)),
    },
  };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function object(parent: Json, name: string, path: string): Json {
  const value = parent[name];
  if (!isObject(value)) throw new KeystoreError(`keystore: ${path} must be an object`);
  return value;
}

function hex(parent: Json, name: string, path: string, bytes?: number): Uint8Array {
  const value = parent[name];
  const digits = typeof value === "string" ? value.replace(/^0x/i, "") : undefined;
  const size = bytes === undefined ? "" : `${bytes} bytes of `;
  if (
    digits === undefined ||
    !/^([0-9a-fA-F]{2})+$/.test(digits) ||
    (bytes !== undefined && digits.length !== bytes * 2)
  ) {
    throw new KeystoreError(`keystore: ${path} must be ${size}hex`);
  }
  return hexToBytes(digits.toLowerCase());
}

function integer(parent: Json, name: string, path: string): number {
  const value = parent[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new KeystoreError(`keystore: ${path} must be an integer`);
  }
  return value;
}

function deriveKey(crypto: Json, password: Uint8Array): Uint8Array {
  const kdf = crypto.kdf;
  const params = object(crypto, "kdfparams", "crypto.kdfparams");
  const dkLen = integer(params, "dklen", "crypto.kdfparams.dklen");
  if (dkLen < 32 || dkLen > 64) throw new KeystoreError("keystore: crypto.kdfparams.dklen must be from 32 to 64");
  const salt = hex(params, "salt", "crypto.kdfparams.salt");
  if (kdf === "scrypt") {
    const n = integer(params, "n", "crypto.kdfparams.n");
    const r = integer(params, "r", "crypto.kdfparams.r");
    const p = integer(params, "p", "crypto.kdfparams.p");
    checkScrypt(n, r, p, "crypto.kdfparams");
    return scrypt(password, salt, n, r, p, dkLen);
  }
  if (kdf === "pbkdf2") {
    if (params.prf !== "hmac-sha256") {
      throw new KeystoreError(
        `keystore: crypto.kdfparams.prf ${JSON.stringify(params.prf)} is not supported (hmac-sha256)`,
      );
    }
    const c = integer(params, "c", "crypto.kdfparams.c");
    if (c < 1 || c > MAX_PBKDF2_ROUNDS) {
      throw new KeystoreError(`keystore: crypto.kdfparams.c must be from 1 to ${MAX_PBKDF2_ROUNDS}`);
    }
    return new Uint8Array(pbkdf2Sync(password, salt, c, dkLen, "sha256"));
  }
  throw new KeystoreError(`keystore: crypto.kdf ${JSON.stringify(kdf)} is not supported (scrypt or pbkdf2)`);
}

/**
 * Decrypts a version 3 key file (the parsed JSON, or its text) written by any Web3 Secret Storage tool.
 *
 * @throws {KeystoreError} `keystore: wrong password (MAC mismatch)`, or naming the malformed field
 *   (`keystore: crypto.cipherparams.iv must be 16 bytes of hex`).
 */
export function decryptKeystore(json: unknown, password: string): Hex {
  let file = json;
  if (typeof file === "string") {
    try {
      file = JSON.parse(file);
    } catch (error) {
      throw new KeystoreError("keystore: not JSON", { cause: error });
    }
  }
  if (!isObject(file)) throw new KeystoreError("keystore: must be a JSON object");
  if (file.version !== 3) {
    throw new KeystoreError(`keystore: version must be 3, not ${JSON.stringify(file.version) ?? "missing"}`);
  }
  // Some older tools wrote "Crypto"; geth reads it case-insensitively too.
  const crypto = object(file, file.crypto === undefined && file.Crypto !== undefined ? "Crypto" : "crypto", "crypto");
  if (crypto.cipher !== "aes-128-ctr") {
    throw new KeystoreError(`keystore: crypto.cipher ${JSON.stringify(crypto.cipher)} is not supported (aes-128-ctr)`);
  }
  const iv = hex(object(crypto, "cipherparams", "crypto.cipherparams"), "iv", "crypto.cipherparams.iv", 16);
  const ciphertext = hex(crypto, "ciphertext", "crypto.ciphertext", 32);
  const expectedMac = hex(crypto, "mac", "crypto.mac", 32);
  let address: string | undefined;
  if (file.address !== undefined) {
    if (typeof file.address !== "string" || !/^(0x)?[0-9a-fA-F]{40}$/.test(file.address)) {
      throw new KeystoreError("keystore: address must be 20 bytes of hex");
    }
    address = file.address.replace(/^0x/, "").toLowerCase();
  }

  const derivedKey = deriveKey(crypto, stringToBytes(password));
  if (!timingSafeEqual(mac(derivedKey, ciphertext), expectedMac)) {
    throw new KeystoreError("keystore: wrong password (MAC mismatch)");
  }
  const key = aes128Ctr(derivedKey.subarray(0, 16), iv, ciphertext);
  if (!isValidSecretKey(key)) {
    throw new KeystoreError("keystore: the decrypted key is not a valid secp256k1 key");
  }
  const privateKey = `0x${bytesToHex(key)}` as Hex;
  if (address !== undefined && privateKeyToAddress(privateKey).slice(2).toLowerCase() !== address) {
    throw new KeystoreError(`keystore: the key does not belong to the file's address 0x${address}`);
  }
  return privateKey;
}

/** Reads and decrypts a key file. */
export async function loadKeystoreFile(path: string, password: string): Promise<Hex> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new KeystoreError(`keystore: cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new KeystoreError(`keystore: ${path} is not JSON`, { cause: error });
  }
  return decryptKeystore(json, password);
}

/**
 * Encrypts a private key into a new key file, readable by its owner only (mode 0600).
 * Never replaces a file: an existing `path` is an error, so a key cannot be lost to a typo.
 */
export async function saveKeystoreFile(
  path: string,
  privateKey: Hex,
  password: string,
  opts?: EncryptKeystoreOptions,
): Promise<Keystore> {
  const keystore = encryptKeystore(privateKey, password, opts);
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, "wx", 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "EEXIST" ? "already exists; not overwriting it" : (error as Error).message;
    throw new KeystoreError(`keystore: cannot create ${path}: ${reason}`, { cause: error });
  }
  try {
    await file.writeFile(`${JSON.stringify(keystore, null, 2)}\n`);
    await file.sync();
  } catch (error) {
    await file.close().catch(() => {});
    await rm(path, { force: true });
    throw new KeystoreError(`keystore: cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
  await file.close();
  return keystore;
}
