import { type Address, getAddress, type Hex, hashDomain, type PublicClient, parseSignature } from "viem";

/**
 * An EIP-2612 permit as the market's `*WithPermit` functions take it (`PermitSignature` in
 * contracts/src/types/MarketTypes.sol): signed by the caller for the market (spender) and exactly the amount the call
 * pulls.
 */
export type PermitSignature = { deadline: bigint; v: number; r: Hex; s: Hex };

/** The EIP-712 domain of an ERC-2612 token (OpenZeppelin's ERC20Permit: name, version, chain id, token). */
export type PermitDomain = { name: string; version: string; chainId: number; verifyingContract: Address };

/** The message of a permit: `owner` lets `spender` take `value` until `deadline` (unix seconds). */
export type PermitMessage = { owner: Address; spender: Address; value: bigint; nonce: bigint; deadline: bigint };

/** EIP-2612's Permit type. */
export const permitTypes = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/**
 * The EIP-712 typed data of a permit: what the owner signs (viem's `signTypedData`) and the token recovers. Built here
 * once for every package (contracts/test/utils/Permits.sol is the Solidity tests' copy).
 *
 * @example
 * const signature = await wallet.signTypedData({ account, ...permitTypedData(domain, message) });
 * const permit = permitSignature(signature, message.deadline);
 */
export function permitTypedData(domain: PermitDomain, message: PermitMessage) {
  return { domain, types: permitTypes, primaryType: "Permit", message } as const;
}

/** A 65-byte signature of a permit split into the `PermitSignature` struct (v is 27 or 28). */
export function permitSignature(signature: Hex, deadline: bigint): PermitSignature {
  const { r, s, v, yParity } = parseSignature(signature);
  return { deadline, v: v !== undefined ? Number(v) : yParity + 27, r, s };
}

/** The ERC-2612 and ERC-5267 reads of a token (viem's erc20Abi has neither). */
export const erc20PermitAbi = [
  {
    type: "function",
    name: "nonces",
    stateMutability: "view",
    inputs: [{ name: "owner", type: "address" }],
    outputs: [{ name: "", type: "uint256" }],
  },
  {
    type: "function",
    name: "DOMAIN_SEPARATOR",
    stateMutability: "view",
    inputs: [],
    outputs: [{ name: "", type: "bytes32" }],
  },
  {
    type: "function",
    name: "eip712Domain",
    stateMutability: "view",
    inputs: [],
    outputs: [
      { name: "fields", type: "bytes1" },
      { name: "name", type: "string" },
      { name: "version", type: "string" },
      { name: "chainId", type: "uint256" },
      { name: "verifyingContract", type: "address" },
      { name: "salt", type: "bytes32" },
      { name: "extensions", type: "uint256[]" },
    ],
  },
  { type: "function", name: "name", stateMutability: "view", inputs: [], outputs: [{ name: "", type: "string" }] },
  { type: "function", name: "version", stateMutability: "view", inputs: [], outputs: [{ name: "", type: "string" }] },
] as const;

const domainTypes = {
  EIP712Domain: [
    { name: "name", type: "string" },
    { name: "version", type: "string" },
    { name: "chainId", type: "uint256" },
    { name: "verifyingContract", type: "address" },
  ],
} as const;

export type ReadPermitDomainParameters = {
  token: Address;
  /** Any account: `nonces(owner)` must answer. */
  owner: Address;
  chainId: number;
};

/**
 * Whether `token` takes EIP-2612 permits, and its domain if so: `nonces(owner)` and `DOMAIN_SEPARATOR()` must answer,
 * and the domain (ERC-5267's `eip712Domain()`, else `name()` and `version()`, version "1" when absent) must hash to
 * that separator, so a permit signed with it is one the token accepts. `null` otherwise: approve instead.
 */
export async function readPermitDomain(
  publicClient: PublicClient,
  params: ReadPermitDomainParameters,
): Promise<PermitDomain | null> {
  const read = <const name extends "nonces" | "DOMAIN_SEPARATOR" | "eip712Domain" | "name" | "version">(
    functionName: name,
  ) =>
    publicClient
      .readContract({
        address: params.token,
        abi: erc20PermitAbi,
        functionName,
        ...(functionName === "nonces" ? { args: [params.owner] } : {}),
      } as never)
      .then(
        (value) => ({ ok: true as const, value }),
        () => ({ ok: false as const }),
      );
  const [nonce, separator, eip712] = await Promise.all([
    read("nonces"),
    read("DOMAIN_SEPARATOR"),
    read("eip712Domain"),
  ]);
  if (!nonce.ok || !separator.ok) return null;
  let domain: PermitDomain;
  if (eip712.ok) {
    const [, name, version, chainId, verifyingContract] = eip712.value as unknown as readonly [
      Hex,
      string,
      string,
      bigint,
      Address,
    ];
    domain = { name, version, chainId: Number(chainId), verifyingContract: getAddress(verifyingContract) };
  } else {
    const [name, version] = await Promise.all([read("name"), read("version")]);
    if (!name.ok) return null;
    domain = {
      name: name.value as unknown as string,
      version: version.ok ? (version.value as unknown as string) : "1",
      chainId: params.chainId,
      verifyingContract: getAddress(params.token),
    };
  }
  if (domain.chainId !== params.chainId || domain.verifyingContract !== getAddress(params.token)) return null;
  if (
    hashDomain({ domain: { ...domain, chainId: BigInt(domain.chainId) }, types: domainTypes }) !==
    (separator.value as unknown as Hex)
  )
    return null;
  return domain;
}
