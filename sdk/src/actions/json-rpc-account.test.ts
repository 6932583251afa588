import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, custom, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, describe, expect, it } from "vitest";
import { createPodnetBaseClient } from "../client.js";
import { type Deployment, NonceCache, signRequest, verifyRequest } from "../protocol/index.js";
import { requestSigner } from "./internal/wallet.js";
import { prepareSecret } from "./prepare-secret.js";

// A wallet that holds the key elsewhere (a browser wallet, a remote signer): the client only knows the address and
// signs through JSON-RPC. Here the "remote" side is a local account behind a custom transport.
const remote = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const methods: string[] = [];
const transport = custom({
  async request({ method, params }: { method: string; params: unknown[] }) {
    methods.push(method);
    if (method === "eth_signTypedData_v4") {
      const typedData = JSON.parse(params[1] as string);
      // JSON carries integers as strings; the EIP712Domain entry is implied by the domain.
      delete typedData.types.EIP712Domain;
      typedData.message.timestamp = BigInt(typedData.message.timestamp);
      return remote.signTypedData(typedData);
    }
    if (method === "personal_sign") return remote.signMessage({ message: { raw: params[0] as Hex } });
    if (method === "eth_chainId") return "0x7a69";
    throw new Error(`unexpected ${method}`);
  },
});

const dir = mkdtempSync(join(tmpdir(), "podnet-json-rpc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const client = createPodnetBaseClient({
  publicClient: createPublicClient({ chain: foundry, transport: http("http://127.0.0.1:9") }),
  walletClient: createWalletClient({ chain: foundry, transport, account: remote.address }),
  deployment: { chainId: 31337, contracts: {} } as unknown as Deployment,
  blobCacheDir: dir,
});

describe("a JSON-RPC account (no private key in the client)", () => {
  it("signs provider requests through the wallet client, and the provider's check accepts them", async () => {
    const provider = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const request = { provider, method: "GET", path: "/v1/leases/7" } as const;
    const headers = await signRequest(requestSigner(client, "test"), 31337, request);
    expect(methods).toContain("eth_signTypedData_v4");
    const signer = await verifyRequest(new Headers(headers), request, { chainId: 31337, nonces: new NonceCache() });
    expect(signer).toBe(remote.address);
  });

  it("derives the blob cache key from a personal_sign signature", async () => {
    const secret = await prepareSecret(client, { value: "from a remote signer" });
    expect(methods).toContain("personal_sign");
    expect(client.blobCache.get(secret.cid)?.kind).toBe("secret");
  });
});
