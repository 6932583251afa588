/**
 * Handing an owner's content keys to an autoscaler, through the real binaries as child processes: the controller's
 * `podnet-autoscaler key` prints its blob cache key, the owner's `podnet app share-keys` seals the blobs pod.yaml names
 * to it into the autoscaler's data dir. Only the controller's key opens them, nothing is written in the clear, and a
 * bad recipient is refused naming the option, with nothing written. No chain is needed (the blob cache is offline).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { autoscalerBin, devAccount, podnetBin, runNodeScript } from "@podnet/devnet";
import { BlobCache, deriveSelfEncryptionKey } from "@podnet/sdk";
import { decryptBytes } from "@podnet/sdk/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const owner = devAccount(5);
const controller = devAccount(6);
const stranger = devAccount(7);
const secret = "postgres://app:correct-horse-battery-staple@db/app";

let dir: string;
let env: Record<string, string>;

function run(bin: string, args: string[], extraEnv: Record<string, string> = {}) {
  return runNodeScript(bin, args, { cwd: dir, env: { ...env, ...extraEnv } });
}

const selfKeyOf = (who: typeof owner) => deriveSelfEncryptionKey((message) => who.account.signMessage({ message }));

let cid: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-share-keys-cli-"));
  mkdirSync(join(dir, "home"));
  mkdirSync(join(dir, "app"));
  env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(dir, "home"), PODNET_PUBLISHER_KEY: owner.privateKey };
  writeFileSync(join(dir, "secret.txt"), secret);
  const added = await run(podnetBin, ["secret", "add", "db-url", "--value-file", "secret.txt", "--json"]);
  expect(added.code, added.stderr).toBe(0);
  cid = JSON.parse(added.stdout).cid;
  writeFileSync(
    join(dir, "app", "pod.yaml"),
    [
      "version: 1",
      "containers:",
      "  - name: web",
      `    image: podnet-test/web@sha256:${"ab".repeat(32)}`,
      "    resources: { cpuMillis: 100, memoryMiB: 64 }",
      "    mounts: [{ volume: creds, path: /run/secrets, readOnly: true }]",
      "volumes:",
      "  - type: secret",
      "    name: creds",
      `    files: [{ path: db-url, blob: ${cid} }]`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "controller.key"), `${controller.privateKey}\n`, { mode: 0o600 });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("podnet app share-keys", () => {
  it("podnet-autoscaler key prints the controller's cache key; share-keys seals pod.yaml's blobs to it only", async () => {
    const key = await run(autoscalerBin, ["key", "--controller-key-file", "controller.key"]);
    expect(key.code, key.stderr).toBe(0);
    const recipient = key.stdout.trim();
    const controllerSelf = await selfKeyOf(controller);
    expect(recipient).toBe(controllerSelf.publicKeyHex);
    expect(key.stdout + key.stderr).not.toContain(controller.privateKey.slice(2));

    const shared = await run(podnetBin, [
      "app",
      "share-keys",
      "--dir",
      "app",
      "--recipient",
      recipient,
      "--out",
      "autoscaler-data/blobs",
      "--json",
    ]);
    expect(shared.code, shared.stderr).toBe(0);
    expect(JSON.parse(shared.stdout).blobs).toEqual([{ cid, kind: "secret", size: expect.any(Number) }]);

    const cache = new BlobCache(join(dir, "autoscaler-data", "blobs"));
    const contentKey = cache.contentKey(cid, controllerSelf);
    expect(new TextDecoder().decode(decryptBytes(readFileSync(cache.path(cid)), contentKey))).toBe(secret);
    // The owner's and a stranger's keys do not open the autoscaler's copy.
    const [ownerSelf, strangerSelf] = await Promise.all([selfKeyOf(owner), selfKeyOf(stranger)]);
    expect(() => cache.contentKey(cid, ownerSelf)).toThrow(/sealed to/);
    expect(() => cache.contentKey(cid, strangerSelf)).toThrow(/sealed to/);
    // Nothing in the clear: neither the content key in any encoding nor the secret.
    const key32 = Buffer.from(contentKey);
    for (const entry of readdirSync(join(dir, "autoscaler-data"), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const bytes = readFileSync(join(entry.parentPath, entry.name));
      for (const needle of [
        key32,
        key32.toString("hex"),
        key32.toString("base64url"),
        key32.toString("base64"),
        secret,
      ]) {
        expect(bytes.includes(needle)).toBe(false);
      }
    }
  }, 60_000);

  it("refuses a recipient that is not an X25519 public key, naming --recipient, writing nothing", async () => {
    for (const bad of ["0x1234", controller.account.address, `0x${"00".repeat(32)}`]) {
      const refused = await run(podnetBin, [
        "app",
        "share-keys",
        "--dir",
        "app",
        "--recipient",
        bad,
        "--out",
        "nowhere",
      ]);
      expect(refused.stderr).toMatch(/--recipient: /);
      expect(refused.code).toBe(2);
    }
    expect(existsSync(join(dir, "nowhere"))).toBe(false);
  }, 60_000);

  it("podnet-autoscaler key without a controller key, or with a flag it does not use, fails naming it", async () => {
    const none = await run(autoscalerBin, ["key"]);
    expect(none.stderr).toMatch(/controllerKey: required/);
    expect(none.code).toBe(2);
    const extra = await run(autoscalerBin, ["key", "--controller-key-file", "controller.key", "--vault", "0x01"]);
    expect(extra.stderr).toMatch(/--vault: not used by this command/);
    expect(extra.code).toBe(2);
  }, 60_000);
});
