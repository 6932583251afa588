import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clients, contractHandles, devAccount, type LocalChain, startLocalChain, walletClient } from "@podnet/devnet";
import {
  appVaultAbi,
  type Erc1271RequestCheck,
  erc1271RequestCheck,
  requestHeaders,
  signRequest,
} from "@podnet/sdk/protocol";
import { type Address, getContract, type Hex, keccak256, stringToHex, zeroHash } from "viem";
import type { HDAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ContractPublisherOptions, ContractPublishers, type ContractReader } from "./contract-publishers.js";
import { HttpError } from "./http-error.js";

// The worker's ERC-1271 checks against a real AppVault on anvil (the whole path through the worker process is
// test/vault-signing.test.ts): what the vault answers, what is cached for how long, and what a caller can make it cost.

const owner = devAccount(2).account;
const controller = devAccount(3).account;
const stranger = devAccount(5).account;
const otherController = devAccount(7).account;
const provider: Address = devAccount(4).account.address;

let dir: string;
let chain: LocalChain;
let vault: Address;
let otherVault: Address;

async function createApp(appOwner: HDAccount, controllers: Address[]): Promise<Address> {
  const { vaultFactory } = contractHandles(chain.deployment, walletClient(chain, appOwner));
  const salt = keccak256(stringToHex(`contract-publishers ${appOwner.address}`));
  const address = await vaultFactory.read.predictApp([appOwner.address, salt]);
  const limits = { maxPricePerSecond: 1n, maxDepositPerLease: 1n, maxInstances: 1 };
  const hash = await vaultFactory.write.createApp([
    salt,
    keccak256(stringToHex("spec")),
    zeroHash,
    limits,
    controllers,
  ]);
  await clients(chain).client.waitForTransactionReceipt({ hash });
  return address;
}

/** The ERC-1271 arguments for a request `account` signed, as the worker builds them. */
async function signedCheck(account: HDAccount, path = "/v1/leases/1"): Promise<Erc1271RequestCheck> {
  const request = { provider, method: "GET", path };
  const headers = await signRequest(account, 31337, request);
  const stated = {
    timestamp: Number(headers[requestHeaders.timestamp]),
    nonce: headers[requestHeaders.nonce] as Hex,
    signature: headers[requestHeaders.signature] as Hex,
  };
  return erc1271RequestCheck(31337, request, stated);
}

/** The chain's client, counting what it is asked. */
function countingReader() {
  const { client } = clients(chain);
  const calls = { getCode: 0, isValidSignature: 0 };
  const reader: ContractReader = {
    getCode: (args) => {
      calls.getCode++;
      return client.getCode(args);
    },
    readContract: (args) => {
      calls.isValidSignature++;
      return client.readContract(args);
    },
  };
  return { reader, calls };
}

function publishers(options: ContractPublisherOptions = {}) {
  const { reader, calls } = countingReader();
  return { publishers: new ContractPublishers(reader, options), calls };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-contract-publishers-"));
  chain = await startLocalChain(dir);
  vault = await createApp(owner, [controller.address]);
  otherVault = await createApp(devAccount(6).account, [otherController.address]);
}, 120_000);

afterAll(() => {
  chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("ContractPublishers", () => {
  it("tells contracts from accounts, asking once per address", async () => {
    const { publishers: p, calls } = publishers();
    expect(await p.isContract(vault)).toBe(true);
    expect(await p.isContract(owner.address)).toBe(false);
    expect(await p.isContract(vault)).toBe(true);
    expect(await p.isContract(owner.address.toLowerCase() as Address)).toBe(false);
    expect(calls.getCode).toBe(2);
    // Past the code TTL the answer is asked again (an EIP-7702 account can gain or lose code).
    expect(await p.isContract(vault, Date.now() + 600_001)).toBe(true);
    expect(calls.getCode).toBe(3);
  });

  it("lets in the app's controller and owner, and nobody else", async () => {
    const { publishers: p } = publishers();
    const byController = await signedCheck(controller);
    expect(await p.vouches(vault, controller.address, () => byController)).toEqual({ vouched: true });
    const byOwner = await signedCheck(owner);
    expect(await p.vouches(vault, owner.address, () => byOwner)).toEqual({ vouched: true });
    const refused = {
      vouched: false,
      reason: "not an owner or controller of that contract (ERC-1271 isValidSignature refused)",
    };
    const byStranger = await signedCheck(stranger);
    expect(await p.vouches(vault, stranger.address, () => byStranger)).toEqual(refused);
    const byOtherAppsController = await signedCheck(otherController);
    expect(await p.vouches(vault, otherController.address, () => byOtherAppsController)).toEqual(refused);
    // ... who is a controller of its own app.
    expect(await p.vouches(otherVault, otherController.address, () => byOtherAppsController)).toEqual({
      vouched: true,
    });
  });

  it("refuses a controller's signature bundled with another request's struct hash", async () => {
    const { publishers: p } = publishers();
    const one = await signedCheck(controller, "/v1/leases/1");
    const other = await signedCheck(controller, "/v1/leases/2");
    // The signature of request 1 with the struct hash of request 2: the vault's rebuilt digest is not the one signed.
    const mixed = { hash: other.hash, signature: `${one.signature.slice(0, 132)}${other.signature.slice(132)}` as Hex };
    expect((await p.vouches(vault, controller.address, () => mixed)).vouched).toBe(false);
  });

  it("names a contract without ERC-1271 as accepting no signatures", async () => {
    const { publishers: p } = publishers();
    const check = await signedCheck(controller);
    expect(await p.vouches(chain.deployment.contracts.podnetMarket.address, controller.address, () => check)).toEqual({
      vouched: false,
      reason: "the contract accepts no signatures (ERC-1271 isValidSignature reverted)",
    });
  });

  it("reuses a verdict for its TTL: a removed controller keeps access at most that long", async () => {
    const { publishers: p, calls } = publishers({ verdictTtlMs: 10_000 });
    const t0 = Date.now();
    const check = await signedCheck(controller);
    expect(await p.vouches(vault, controller.address, () => check, t0)).toEqual({ vouched: true });
    const vaultAsOwner = getContract({ address: vault, abi: appVaultAbi, client: walletClient(chain, owner) });
    const hash = await vaultAsOwner.write.setController([controller.address, false]);
    await clients(chain).client.waitForTransactionReceipt({ hash });
    expect(await p.vouches(vault, controller.address, () => check, t0 + 9_999)).toEqual({ vouched: true });
    expect(calls.isValidSignature).toBe(1);
    expect((await p.vouches(vault, controller.address, () => check, t0 + 10_000)).vouched).toBe(false);
    expect(calls.isValidSignature).toBe(2);
    // Refusals are remembered as long: a refused key asking again costs no call, and the auth can refuse a request
    // naming it before reading its body.
    expect((await p.vouches(vault, controller.address, () => check, t0 + 10_001)).vouched).toBe(false);
    expect(calls.isValidSignature).toBe(2);
    expect(p.knownRefusal(vault, controller.address, t0 + 10_001)?.reason).toMatch(/not an owner or controller/);
    expect(p.knownRefusal(vault, controller.address, t0 + 20_000)).toBeUndefined();
    expect(p.knownRefusal(vault, owner.address, t0)).toBeUndefined();
    const restore = await vaultAsOwner.write.setController([controller.address, true]);
    await clients(chain).client.waitForTransactionReceipt({ hash: restore });
  });

  it("shares one call between concurrent asks for a pair, and caps the calls in flight (503)", async () => {
    const { publishers: p, calls } = publishers({ maxInFlight: 1 });
    const check = await signedCheck(controller);
    const byStranger = await signedCheck(stranger);
    const first = p.vouches(vault, controller.address, () => check);
    const same = p.vouches(vault, controller.address, () => check);
    const error = (() => {
      try {
        p.vouches(vault, stranger.address, () => byStranger);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(503);
    expect((error as HttpError).retryAfter).toBe(1);
    expect(await first).toEqual({ vouched: true });
    expect(await same).toEqual({ vouched: true });
    expect(calls.isValidSignature).toBe(1);
    // Once the first call is done, the stranger's is asked (and refused).
    expect((await p.vouches(vault, stranger.address, () => byStranger)).vouched).toBe(false);
  });

  it("does not remember an RPC failure as an answer", async () => {
    let down = true;
    const { client } = clients(chain);
    const p = new ContractPublishers({
      getCode: (args) => client.getCode(args),
      readContract: (args) => (down ? Promise.reject(new Error("RPC down")) : client.readContract(args)),
    });
    const check = await signedCheck(controller);
    await expect(p.vouches(vault, controller.address, () => check)).rejects.toThrow("RPC down");
    down = false;
    expect(await p.vouches(vault, controller.address, () => check)).toEqual({ vouched: true });
  });
});
