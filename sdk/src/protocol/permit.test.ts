import {
  type Address,
  encodeAbiParameters,
  encodePacked,
  hashDomain,
  hashTypedData,
  keccak256,
  type PublicClient,
  recoverTypedDataAddress,
  stringToHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { permitSignature, permitTypedData, readPermitDomain } from "./permit.js";

const owner = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const token = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const;
const spender = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as const;
const domain = { name: "Podnet Test Token", version: "1", chainId: 31337, verifyingContract: token } as const;
const message = { owner: owner.address, spender, value: 946_080_000n, nonce: 3n, deadline: 1_800_000_000n };

/** The digest as OpenZeppelin's ERC20Permit builds it (and contracts/test/utils/Permits.sol), written out by hand. */
function solidityDigest() {
  const typeHash = keccak256(
    stringToHex("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
  );
  const domainSeparator = keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "address" }],
      [
        keccak256(stringToHex("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")),
        keccak256(stringToHex(domain.name)),
        keccak256(stringToHex(domain.version)),
        31337n,
        token,
      ],
    ),
  );
  const structHash = keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "address" },
        { type: "address" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint256" },
      ],
      [typeHash, message.owner, message.spender, message.value, message.nonce, message.deadline],
    ),
  );
  return keccak256(encodePacked(["bytes2", "bytes32", "bytes32"], ["0x1901", domainSeparator, structHash]));
}

describe("permitTypedData", () => {
  it("hashes to the EIP-2612 digest the token checks", () => {
    expect(hashTypedData(permitTypedData(domain, message))).toBe(solidityDigest());
  });

  it("signs to a PermitSignature that recovers to the owner", async () => {
    const typed = permitTypedData(domain, message);
    const signature = await owner.signTypedData(typed);
    const permit = permitSignature(signature, message.deadline);
    expect(permit.deadline).toBe(message.deadline);
    expect([27, 28]).toContain(permit.v);
    expect(permit.r).toBe(signature.slice(0, 66));
    expect(permit.s).toBe(`0x${signature.slice(66, 130)}`);
    expect(await recoverTypedDataAddress({ ...typed, signature })).toBe(owner.address);
  });
});

/** A public client whose token answers `reads` (a function name → its result, or an Error for a revert). */
function fakeClient(reads: Record<string, unknown>) {
  const calls: string[] = [];
  const client = {
    readContract: async ({ functionName }: { functionName: string }) => {
      calls.push(functionName);
      const result = reads[functionName];
      if (result === undefined || result instanceof Error) throw result ?? new Error(`${functionName} reverted`);
      return result;
    },
  } as unknown as PublicClient;
  return { client, calls };
}

const separator = hashDomain({
  domain: { ...domain, chainId: 31337n },
  types: {
    EIP712Domain: [
      { name: "name", type: "string" },
      { name: "version", type: "string" },
      { name: "chainId", type: "uint256" },
      { name: "verifyingContract", type: "address" },
    ],
  },
});
const eip712Domain = ["0x0f", domain.name, domain.version, 31337n, token, `0x${"0".repeat(64)}`, []];

describe("readPermitDomain", () => {
  it("reads the domain of an ERC-2612 token with ERC-5267's eip712Domain", async () => {
    const { client } = fakeClient({ nonces: 0n, DOMAIN_SEPARATOR: separator, eip712Domain });
    expect(await readPermitDomain(client, { token, owner: owner.address, chainId: 31337 })).toEqual(domain);
  });

  it("falls back to name() and version() without eip712Domain, checked against DOMAIN_SEPARATOR", async () => {
    const { client } = fakeClient({ nonces: 5n, DOMAIN_SEPARATOR: separator, name: domain.name, version: "1" });
    expect(await readPermitDomain(client, { token, owner: owner.address, chainId: 31337 })).toEqual(domain);
  });

  it("assumes version 1 when the token has no version()", async () => {
    const { client } = fakeClient({ nonces: 5n, DOMAIN_SEPARATOR: separator, name: domain.name });
    expect(await readPermitDomain(client, { token, owner: owner.address, chainId: 31337 })).toEqual(domain);
  });

  it("is null for a token without nonces (no EIP-2612)", async () => {
    const { client } = fakeClient({ DOMAIN_SEPARATOR: separator, eip712Domain, name: domain.name });
    expect(await readPermitDomain(client, { token, owner: owner.address, chainId: 31337 })).toBeNull();
  });

  it("is null for a token without DOMAIN_SEPARATOR", async () => {
    const { client } = fakeClient({ nonces: 0n, eip712Domain, name: domain.name });
    expect(await readPermitDomain(client, { token, owner: owner.address, chainId: 31337 })).toBeNull();
  });

  it("is null when the domain it can read does not hash to the token's DOMAIN_SEPARATOR", async () => {
    const other = keccak256(stringToHex("another domain")) as `0x${string}`;
    const { client } = fakeClient({ nonces: 0n, DOMAIN_SEPARATOR: other, name: domain.name, version: "1" });
    expect(await readPermitDomain(client, { token, owner: owner.address, chainId: 31337 })).toBeNull();
  });

  it("is null for a domain on another token or chain", async () => {
    const elsewhere = ["0x0f", domain.name, "1", 1n, token, `0x${"0".repeat(64)}`, []];
    const { client } = fakeClient({ nonces: 0n, DOMAIN_SEPARATOR: separator, eip712Domain: elsewhere });
    const other: Address = "0x0000000000000000000000000000000000000001";
    expect(await readPermitDomain(client, { token: other, owner: owner.address, chainId: 31337 })).toBeNull();
  });
});
