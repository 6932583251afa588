/**
 * `npm run deploy:local` against a real anvil: the deployment file is written and valid, `cast call` answers on
 * every address, and the SDK's protocol layer (EIP-712 quote, pricing rule, ABIs) agrees with the deployed contracts
 * through a full register → stake → signed quote → lease round trip; an app vault created through the deployed
 * factory accepts (ERC-1271) a provider-API request its controller signed with the SDK's request typed data.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bin, clients, devAccount, freePort, repoRoot, startAnvil, walletClient } from "@podnet/devnet";
import {
  appVaultAbi,
  appVaultFactoryAbi,
  type Deployment,
  encodeAttribute,
  hashQuote,
  type Pricing,
  parseDeployment,
  podnetMarketAbi,
  podnetRoles,
  podnetTestTokenAbi,
  pricePerSecond,
  providerRegistryAbi,
  type Quote,
  quoteTypedData,
  type Resources,
  requestTypedData,
} from "@podnet/sdk";
import { concat, hashStruct, hashTypedData, keccak256, parseEther, stringToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const providerAccount = devAccount(1).account;
const publisherAccount = devAccount(2).account;
const controllerAccount = devAccount(3).account;

let rpcUrl: string;
let stopAnvil: () => void;
let deployment: Deployment;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "podnet-deploy-"));
  const anvil = await startAnvil({ port: await freePort(), logFile: join(dir, "anvil.log") });
  rpcUrl = anvil.rpcUrl;
  stopAnvil = () => anvil.process.kill();
  execFileSync(bin("tsx"), ["script/dev/deploy-local.ts"], {
    cwd: repoRoot,
    env: { ...process.env, RPC_URL: rpcUrl, DEPLOYMENTS_DIR: dir },
    stdio: "pipe",
  });
  deployment = parseDeployment(JSON.parse(readFileSync(join(dir, "31337.json"), "utf8")));
}, 120_000);

afterAll(() => stopAnvil?.());

function cast(...args: string[]): string {
  return execFileSync(bin("cast"), [...args, "--rpc-url", rpcUrl], { encoding: "utf8" }).trim();
}

describe("deploy:local", () => {
  it("writes deployments/31337.json with every contract and its block", () => {
    expect(deployment.chainId).toBe(31337);
    expect(deployment.deployer).toBe("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    const blocks = Object.values(deployment.contracts).map((c) => c.blockNumber);
    expect(deployment.deployBlock).toBe(Math.min(...blocks));
    expect(deployment.deployBlock).toBeGreaterThan(0);
  });

  it("answers cast call on every deployed address", () => {
    const {
      paymentToken,
      accessManager,
      timelock,
      providerRegistry,
      podnetMarket,
      disputeCourt,
      appVaultFactory,
      autoscalerNetwork,
    } = deployment.contracts;
    expect(cast("call", paymentToken.address, "symbol()(string)")).toBe('"tPOD"');
    expect(cast("call", podnetMarket.address, "token()(address)")).toBe(paymentToken.address);
    expect(cast("call", podnetMarket.address, "registry()(address)")).toBe(providerRegistry.address);
    expect(cast("call", podnetMarket.address, "authority()(address)")).toBe(accessManager.address);
    expect(cast("call", disputeCourt.address, "market()(address)")).toBe(podnetMarket.address);
    expect(cast("call", disputeCourt.address, "authority()(address)")).toBe(accessManager.address);
    expect(cast("call", providerRegistry.address, "providerCount()(uint256)")).toBe("0");
    expect(cast("call", timelock.address, "getMinDelay()(uint256)")).toBe("60");
    expect(cast("call", appVaultFactory.address, "market()(address)")).toBe(podnetMarket.address);
    expect(cast("call", appVaultFactory.address, "court()(address)")).toBe(disputeCourt.address);
    const implementation = cast("call", appVaultFactory.address, "implementation()(address)");
    expect(cast("call", implementation, "factory()(address)")).toBe(appVaultFactory.address);
    expect(cast("call", appVaultFactory.address, "network()(address)")).toBe(autoscalerNetwork.address);
    expect(cast("call", implementation, "network()(address)")).toBe(autoscalerNetwork.address);
    expect(cast("call", autoscalerNetwork.address, "token()(address)")).toBe(paymentToken.address);
    expect(cast("call", autoscalerNetwork.address, "authority()(address)")).toBe(accessManager.address);
    // The launch clock: a heartbeat a minute, dropped 90 s after the last one.
    expect(cast("call", autoscalerNetwork.address, "params()((uint96,uint32,uint32,uint32))")).toBe(
      "(100000000000000000000 [1e20], 60, 90, 604800 [6.048e5])",
    );
  });

  it("leaves governance to the timelock and wires the court and arbiter roles", () => {
    const { accessManager, timelock, disputeCourt } = deployment.contracts;
    const hasRole = (role: bigint, who: string) =>
      cast("call", accessManager.address, "hasRole(uint64,address)(bool,uint32)", String(role), who).split("\n")[0];
    expect(hasRole(podnetRoles.admin, timelock.address)).toBe("true");
    expect(hasRole(podnetRoles.admin, deployment.deployer)).toBe("false");
    expect(hasRole(podnetRoles.court, disputeCourt.address)).toBe("true");
    expect(hasRole(podnetRoles.arbiter, deployment.deployer)).toBe("true");
  });
});

describe("SDK protocol layer against the deployed contracts", () => {
  const resources: Resources = { cpuMillis: 500, memoryMiB: 512, storageMiB: 1024 };
  const pricing: Pricing = { perCpuMilli: 3n, perMemoryMiB: 5n, perStorageMiB: 7n, flat: 11n };

  it("registers, stakes and leases from a quote signed with the SDK's EIP-712 types", async () => {
    const { client } = clients({ rpcUrl });
    const provider = walletClient({ rpcUrl }, providerAccount);
    const publisher = walletClient({ rpcUrl }, publisherAccount);
    const { paymentToken, providerRegistry, podnetMarket } = deployment.contracts;
    const send = async (hash: `0x${string}`) => {
      const receipt = await client.waitForTransactionReceipt({ hash });
      expect(receipt.status).toBe("success");
    };

    await send(
      await provider.writeContract({
        address: providerRegistry.address,
        abi: providerRegistryAbi,
        functionName: "register",
        args: [
          {
            endpoint: "https://provider.local:8443",
            metadataURI: "",
            encryptionKey: keccak256(stringToHex("x25519")),
            pricing,
            capacity: { cpuMillis: 4000, memoryMiB: 8192, storageMiB: 65536 },
            attributes: [encodeAttribute("region", "eu-west")],
          },
        ],
      }),
    );
    for (const [wallet, amount] of [
      [provider, parseEther("1000")],
      [publisher, parseEther("1000")],
    ] as const) {
      const to = wallet.account.address;
      await send(
        await wallet.writeContract({
          address: paymentToken.address,
          abi: podnetTestTokenAbi,
          functionName: "mint",
          args: [to, amount],
        }),
      );
      await send(
        await wallet.writeContract({
          address: paymentToken.address,
          abi: podnetTestTokenAbi,
          functionName: "approve",
          args: [podnetMarket.address, amount],
        }),
      );
    }
    await send(
      await provider.writeContract({
        address: podnetMarket.address,
        abi: podnetMarketAbi,
        functionName: "stake",
        args: [parseEther("500")],
      }),
    );

    // The listing price from the chain equals the SDK's pricing rule.
    const listed = await client.readContract({
      address: providerRegistry.address,
      abi: providerRegistryAbi,
      functionName: "priceFor",
      args: [providerAccount.address, resources],
    });
    expect(listed).toBe(pricePerSecond(pricing, resources));

    const block = await client.getBlock();
    const quote: Quote = {
      provider: providerAccount.address,
      publisher: publisherAccount.address,
      specHash: keccak256(stringToHex("pod.yaml")),
      resources,
      pricePerSecond: listed,
      validUntil: Number(block.timestamp) + 600,
      attestationHash: keccak256(stringToHex("attestation")),
      nonce: 42n,
    };
    const onChainDigest = await client.readContract({
      address: podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "hashQuote",
      args: [quote],
    });
    expect(onChainDigest).toBe(hashQuote(quote, 31337, podnetMarket.address));

    const signature = await provider.signTypedData(quoteTypedData(quote, 31337, podnetMarket.address));
    const deposit = listed * 3600n;
    await send(
      await publisher.writeContract({
        address: podnetMarket.address,
        abi: podnetMarketAbi,
        functionName: "createLease",
        args: [quote, signature, deposit],
      }),
    );

    const lease = await client.readContract({
      address: podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "getLease",
      args: [1n],
    });
    expect(lease.publisher).toBe(publisherAccount.address);
    expect(lease.provider).toBe(providerAccount.address);
    expect(lease.pricePerSecond).toBe(listed);
    expect(lease.balance).toBe(deposit);
    expect(lease.specHash).toBe(quote.specHash);
    const { collateralSeconds } = await client.readContract({
      address: podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "params",
    });
    expect(lease.collateral).toBe(listed * BigInt(collateralSeconds));
    const used = await client.readContract({
      address: podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "isQuoteNonceUsed",
      args: [providerAccount.address, 42n],
    });
    expect(used).toBe(true);
  });
});

describe("AppVault against the SDK's request signing", () => {
  it("accepts a provider-API request signed by the app's controller, and nobody else's", async () => {
    const { client } = clients({ rpcUrl });
    const owner = walletClient({ rpcUrl }, publisherAccount);
    const { appVaultFactory } = deployment.contracts;
    const salt = keccak256(stringToHex("deploy-local app"));
    const vault = await client.readContract({
      address: appVaultFactory.address,
      abi: appVaultFactoryAbi,
      functionName: "predictApp",
      args: [publisherAccount.address, salt],
    });
    const hash = await owner.writeContract({
      address: appVaultFactory.address,
      abi: appVaultFactoryAbi,
      functionName: "createApp",
      args: [
        salt,
        keccak256(stringToHex("pod.yaml")),
        keccak256(stringToHex("app.yaml")),
        { maxPricePerSecond: 10n ** 12n, maxDepositPerLease: 10n ** 17n, maxInstances: 2 },
        [controllerAccount.address],
      ],
    });
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");

    const block = await client.getBlock();
    const typedData = requestTypedData(
      31337,
      { provider: providerAccount.address, method: "GET", path: "/v1/leases/1/logs" },
      Number(block.timestamp),
      keccak256(stringToHex("nonce")),
    );
    const digest = hashTypedData(typedData);
    const structHash = hashStruct({ data: typedData.message, primaryType: "Request", types: typedData.types });
    const isValid = (signature: `0x${string}`) =>
      client.readContract({
        address: vault,
        abi: appVaultAbi,
        functionName: "isValidSignature",
        args: [digest, signature],
      });

    const byController = await controllerAccount.signTypedData(typedData);
    expect(await isValid(concat([byController, structHash]))).toBe("0x1626ba7e");
    // Without the struct hash the vault cannot tell a request from any other message: refused.
    expect(await isValid(byController)).toBe("0xffffffff");
    const byStranger = await devAccount(4).account.signTypedData(typedData);
    expect(await isValid(concat([byStranger, structHash]))).toBe("0xffffffff");
  });
});
