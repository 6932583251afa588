import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hexToBytes } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_SCRYPT_N,
  decryptKeystore,
  encryptKeystore,
  KeystoreError,
  loadKeystoreFile,
  saveKeystoreFile,
} from "./keystore.js";

// The test vectors of the Web3 Secret Storage Definition (ethereum/wiki), password "testpassword".
const VECTOR_KEY = "0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";
const scryptVector = {
  crypto: {
    cipher: "aes-128-ctr",
    cipherparams: { iv: "83dbcc02d8ccb40e466191a123791e0e" },
    ciphertext: "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
    kdf: "scrypt",
    kdfparams: {
      dklen: 32,
      n: 262144,
      r: 1,
      p: 8,
      salt: "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19",
    },
    mac: "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097",
  },
  id: "3198bc9c-6672-5ab3-d995-4942343ae5b6",
  version: 3,
};
const pbkdf2Vector = {
  crypto: {
    cipher: "aes-128-ctr",
    cipherparams: { iv: "6087dab2f9fdbbfaddc31a909735c1e6" },
    ciphertext: "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
    kdf: "pbkdf2",
    kdfparams: {
      c: 262144,
      dklen: 32,
      prf: "hmac-sha256",
      salt: "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd",
    },
    mac: "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2",
  },
  id: "3198bc9c-6672-5ab3-d995-4942343ae5b6",
  version: 3,
};

const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"; // anvil's dev account 1
const FAST = { scryptN: 2 ** 10 }; // tests only: the default takes about half a second per call

// biome-ignore lint/suspicious/noExplicitAny: key files under test are untyped JSON, often deliberately broken
type Json = any;

function keystoreError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeystoreError);
    return (error as Error).message;
  }
  throw new Error("no error");
}

describe("decryptKeystore", () => {
  it("decrypts the Web3 Secret Storage scrypt test vector", () => {
    expect(decryptKeystore(scryptVector, "testpassword")).toBe(VECTOR_KEY);
  });

  it("decrypts the Web3 Secret Storage pbkdf2 test vector, also as text", () => {
    expect(decryptKeystore(JSON.stringify(pbkdf2Vector), "testpassword")).toBe(VECTOR_KEY);
  });

  it("refuses a wrong password", () => {
    expect(keystoreError(() => decryptKeystore(pbkdf2Vector, "testpassword!"))).toBe(
      "keystore: wrong password (MAC mismatch)",
    );
  });

  it("names the malformed field", () => {
    const cases: [(k: Json) => void, string][] = [
      [(k) => (k.version = 1), "keystore: version must be 3, not 1"],
      [(k) => delete k.crypto, "keystore: crypto must be an object"],
      [(k) => (k.crypto.cipher = "aes-256-gcm"), 'keystore: crypto.cipher "aes-256-gcm" is not supported'],
      [(k) => (k.crypto.cipherparams.iv = "00"), "keystore: crypto.cipherparams.iv must be 16 bytes of hex"],
      [(k) => (k.crypto.ciphertext = "zz"), "keystore: crypto.ciphertext must be 32 bytes of hex"],
      [(k) => delete k.crypto.mac, "keystore: crypto.mac must be 32 bytes of hex"],
      [(k) => (k.crypto.kdf = "argon2id"), 'keystore: crypto.kdf "argon2id" is not supported'],
      [(k) => delete k.crypto.kdfparams, "keystore: crypto.kdfparams must be an object"],
      [(k) => (k.crypto.kdfparams.n = 1000), "keystore: crypto.kdfparams.n must be a power of two"],
      [(k) => (k.crypto.kdfparams.n = 2 ** 24), "keystore: crypto.kdfparams asks for more than 1024 MiB"],
      [(k) => (k.crypto.kdfparams.p = 1000), "keystore: crypto.kdfparams.p must be an integer from 1 to 16"],
      [(k) => (k.crypto.kdfparams.salt = 5), "keystore: crypto.kdfparams.salt must be hex"],
      [(k) => (k.crypto.kdfparams.dklen = 16), "keystore: crypto.kdfparams.dklen must be from 32 to 64"],
      [(k) => (k.address = "nope"), "keystore: address must be 20 bytes of hex"],
    ];
    for (const [change, message] of cases) {
      const broken = structuredClone(scryptVector);
      change(broken);
      expect(keystoreError(() => decryptKeystore(broken, "testpassword"))).toContain(message);
    }
    expect(keystoreError(() => decryptKeystore("{", "x"))).toBe("keystore: not JSON");
    expect(keystoreError(() => decryptKeystore([], "x"))).toBe("keystore: must be a JSON object");
    const prf = structuredClone(pbkdf2Vector) as Json;
    prf.crypto.kdfparams.prf = "hmac-sha512";
    expect(keystoreError(() => decryptKeystore(prf, "x"))).toContain("crypto.kdfparams.prf");
  });

  it("accepts 0x-prefixed and upper-case hex and a capitalised Crypto key", () => {
    const { crypto, ...rest } = structuredClone(pbkdf2Vector);
    crypto.mac = `0x${crypto.mac.toUpperCase()}`;
    expect(decryptKeystore({ ...rest, Crypto: crypto }, "testpassword")).toBe(VECTOR_KEY);
  });

  it("refuses a file whose address is not the key's", () => {
    const withAddress = { ...pbkdf2Vector, address: "00".repeat(20) };
    expect(keystoreError(() => decryptKeystore(withAddress, "testpassword"))).toContain("does not belong");
    const right = { ...pbkdf2Vector, address: privateKeyToAddress(VECTOR_KEY) };
    expect(decryptKeystore(right, "testpassword")).toBe(VECTOR_KEY);
  });
});

describe("encryptKeystore", () => {
  it("reproduces the scrypt test vector from its salt, iv and id", () => {
    const keystore = encryptKeystore(VECTOR_KEY, "testpassword", {
      scryptN: 262144,
      scryptR: 1,
      scryptP: 8,
      salt: hexToBytes(`0x${scryptVector.crypto.kdfparams.salt}`),
      iv: hexToBytes(`0x${scryptVector.crypto.cipherparams.iv}`),
      id: scryptVector.id,
    });
    expect(keystore).toEqual({ ...scryptVector, address: privateKeyToAddress(VECTOR_KEY).slice(2).toLowerCase() });
  });

  it("writes what geth and Foundry read: version 3, uuid, address, scrypt at 2^17 by default", () => {
    const keystore = encryptKeystore(KEY, "secret");
    expect(keystore.version).toBe(3);
    expect(keystore.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(keystore.address).toBe("70997970c51812dc3a010c7d01b50e0d17dc79c8");
    expect(keystore.crypto).toMatchObject({
      cipher: "aes-128-ctr",
      cipherparams: { iv: expect.stringMatching(/^[0-9a-f]{32}$/) },
      ciphertext: expect.stringMatching(/^[0-9a-f]{64}$/),
      kdf: "scrypt",
      kdfparams: { dklen: 32, n: DEFAULT_SCRYPT_N, r: 8, p: 1, salt: expect.stringMatching(/^[0-9a-f]{64}$/) },
      mac: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(decryptKeystore(JSON.parse(JSON.stringify(keystore)), "secret")).toBe(KEY);
  });

  it("round trips with fresh salt and iv each time, including a non-ASCII password", () => {
    const a = encryptKeystore(KEY, "pässwörd 🔑", FAST);
    const b = encryptKeystore(KEY, "pässwörd 🔑", FAST);
    expect(a.crypto.kdfparams.salt).not.toBe(b.crypto.kdfparams.salt);
    expect(a.crypto.cipherparams.iv).not.toBe(b.crypto.cipherparams.iv);
    expect(a.id).not.toBe(b.id);
    expect(decryptKeystore(a, "pässwörd 🔑")).toBe(KEY);
    expect(decryptKeystore(b, "pässwörd 🔑")).toBe(KEY);
    expect(keystoreError(() => decryptKeystore(a, "passwörd 🔑"))).toContain("wrong password");
  });

  it("refuses keys that are not secp256k1 private keys and bad scrypt options", () => {
    expect(keystoreError(() => encryptKeystore("0x1234", "x", FAST))).toContain("32 bytes");
    expect(keystoreError(() => encryptKeystore(`0x${"00".repeat(32)}`, "x", FAST))).toContain("secp256k1");
    expect(keystoreError(() => encryptKeystore(`0x${"ff".repeat(32)}`, "x", FAST))).toContain("secp256k1");
    expect(keystoreError(() => encryptKeystore(KEY, "x", { scryptN: 1000 }))).toContain("power of two");
  });
});

describe("keystore files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "podnet-keystore-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("saves a file only its owner can read, and loads it back", async () => {
    const path = join(dir, "key.json");
    const saved = await saveKeystoreFile(path, KEY, "secret", FAST);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual(saved);
    expect(await loadKeystoreFile(path, "secret")).toBe(KEY);
    await expect(loadKeystoreFile(path, "wrong")).rejects.toThrow("keystore: wrong password (MAC mismatch)");
  });

  it("refuses to overwrite an existing file", async () => {
    const path = join(dir, "existing.json");
    await writeFile(path, "keep me");
    await expect(saveKeystoreFile(path, KEY, "secret", FAST)).rejects.toThrow(/already exists/);
    expect(await readFile(path, "utf8")).toBe("keep me");
  });

  it("names the file that is missing or not JSON", async () => {
    const missing = join(dir, "missing.json");
    await expect(loadKeystoreFile(missing, "x")).rejects.toThrow(`keystore: cannot read ${missing}`);
    const garbage = join(dir, "garbage.json");
    await writeFile(garbage, "not json");
    await expect(loadKeystoreFile(garbage, "x")).rejects.toThrow(`keystore: ${garbage} is not JSON`);
  });
});
