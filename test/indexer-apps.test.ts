/**
 * App vaults in the Ponder indexer, end to end: the app scenario (devnet/src/scenario.ts, runAppScenario) on a real
 * anvil with the real contracts, plus a second AppVaultFactory (the real contract, not the deployment's) that creates
 * a vault of its own and leases through it. The real indexer (PGlite) then indexes the chain, and every app row is
 * checked against the vault's own views: owner, pending owner, limits, controllers, slots and the balance to the base
 * unit. The other factory's AppCreated and its vault's events must create nothing. A third app runs in network mode:
 * two autoscaler nodes fill its slots and are paid per replacement (the second fee cut by the day's cap), one node
 * exits; the app's flows with the node fees reconcile to its balance to the base unit, and the nodes' rows to the chain.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AppScenarioResult,
  clients,
  contracts,
  devAccount,
  graphql,
  type Indexer,
  type LocalChain,
  podResources,
  repoRoot,
  runAppScenario,
  startIndexer,
  startLocalChain,
  waitForIndexedBlock,
  walletClient,
} from "@podnet/devnet";
import {
  type ApiErrorBody,
  type AppResponse,
  appVaultAbi,
  appVaultFactoryAbi,
  autoscalerNetworkAbi,
  indexerApiRoutes,
  type NetworkNodesResponse,
  podnetTestTokenAbi,
  type Quote,
  quoteTypedData,
} from "@podnet/sdk";
import { type Address, getAddress, getContract, type Hex, keccak256, parseEther, stringToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const lower = (address: string) => address.toLowerCase();

let chain: LocalChain;
let scenario: AppScenarioResult;
let indexer: Indexer;
/** The vault the other factory created, and the lease it took. */
let rogue: { factory: Address; vault: Address; leaseId: bigint };
/** The network-mode app, its two nodes (the second exits) and the fees it paid them. */
let networked: { vault: Address; nodes: [Address, Address]; fees: [bigint, bigint]; funded: bigint };

/** Deploys a second AppVaultFactory on the same market and court; its owner creates, funds and fills an app. */
async function rogueFactoryApp(): Promise<typeof rogue> {
  const { client, viemChain } = clients(chain);
  const { podnetMarket, disputeCourt, autoscalerNetwork } = chain.deployment.contracts;
  const read = contracts(chain);
  const artifact = JSON.parse(
    readFileSync(join(repoRoot, "contracts/out/AppVaultFactory.sol/AppVaultFactory.json"), "utf8"),
  ) as { bytecode: { object: Hex } };
  // A dev account anvil funded and the app scenario does not use.
  const owner = walletClient(chain, devAccount(9).account);
  const deployed = await client.waitForTransactionReceipt({
    hash: await owner.deployContract({
      abi: appVaultFactoryAbi,
      bytecode: artifact.bytecode.object,
      args: [podnetMarket.address, disputeCourt.address, autoscalerNetwork.address],
    }),
  });
  const factory = deployed.contractAddress as Address;
  const factoryAs = getContract({
    address: factory,
    abi: appVaultFactoryAbi,
    client: { public: client, wallet: owner },
  });
  const send = async (hash: Promise<Hex>) => {
    const receipt = await client.waitForTransactionReceipt({ hash: await hash });
    expect(receipt.status).toBe("success");
  };
  const specHash = scenario.specHash;
  const salt = keccak256(stringToHex("rogue"));
  const vault = await factoryAs.read.predictApp([owner.account.address, salt]);
  const price = await read.registry.read.priceFor([scenario.providers[0] as Address, podResources]);
  const limits = { maxPricePerSecond: price, maxDepositPerLease: price * 3600n, maxInstances: 2 };
  await send(factoryAs.write.createApp([salt, specHash, keccak256(stringToHex("rogue config")), limits, []]));
  const token = getContract({
    address: chain.deployment.contracts.paymentToken.address,
    abi: podnetTestTokenAbi,
    client: { public: client, wallet: owner },
  });
  await send(token.write.mint([owner.account.address, parseEther("1000")]));
  await send(token.write.approve([vault, parseEther("1000")]));
  const vaultAs = getContract({ address: vault, abi: appVaultAbi, client: { public: client, wallet: owner } });
  await send(vaultAs.write.fund([parseEther("1000")]));
  // Provider A of the app scenario (dev account 10) quotes for the rogue vault; the lease is real.
  const provider = walletClient(chain, devAccount(10).account);
  const quote: Quote = {
    provider: provider.account.address,
    publisher: vault,
    specHash,
    resources: podResources,
    pricePerSecond: price,
    validUntil: Number((await client.getBlock({ blockTag: "latest" })).timestamp) + 600,
    attestationHash: keccak256(stringToHex("rogue attestation")),
    nonce: 1_000n,
  };
  const signature = await provider.signTypedData(quoteTypedData(quote, viemChain.id, podnetMarket.address));
  await send(vaultAs.write.replaceSlot([0n, 0n, quote, signature, price * 3600n]));
  return { factory, vault, leaseId: await read.market.read.leaseCount() };
}

/**
 * Dev accounts 20 (owner), 21 and 22 (nodes): the owner creates an app in network mode (fee 1 token per
 * replacement, at most 1.5 a day) and funds it; each node registers and fills one slot with provider A's quote; node
 * 22 then starts its exit.
 */
async function networkModeApp(): Promise<typeof networked> {
  const { client, testClient, viemChain } = clients(chain);
  const { podnetMarket, appVaultFactory, autoscalerNetwork, paymentToken } = chain.deployment.contracts;
  const read = contracts(chain);
  const send = async (hash: Promise<Hex>) => {
    const receipt = await client.waitForTransactionReceipt({ hash: await hash });
    expect(receipt.status).toBe("success");
  };
  const actor = async (index: number) => {
    const wallet = walletClient(chain, devAccount(index).account);
    await testClient.setBalance({ address: wallet.account.address, value: parseEther("100") });
    const token = getContract({ address: paymentToken.address, abi: podnetTestTokenAbi, client: { wallet } });
    await send(token.write.mint([wallet.account.address, parseEther("1000")]));
    return { wallet, token };
  };
  const owner = await actor(20);
  const nodes = [await actor(21), await actor(22)] as const;
  const fee = parseEther("1");
  const salt = keccak256(stringToHex("networked"));
  const factory = getContract({
    address: appVaultFactory.address,
    abi: appVaultFactoryAbi,
    client: { public: client, wallet: owner.wallet },
  });
  const vault = await factory.read.predictApp([owner.wallet.account.address, salt]);
  const price = await read.registry.read.priceFor([scenario.providers[0] as Address, podResources]);
  const limits = { maxPricePerSecond: price, maxDepositPerLease: price * 3600n, maxInstances: 2 };
  await send(factory.write.createApp([salt, scenario.specHash, keccak256(stringToHex("net config")), limits, []]));
  const vaultAs = getContract({ address: vault, abi: appVaultAbi, client: { public: client, wallet: owner.wallet } });
  await send(vaultAs.write.setNetworkTerms([{ enabled: true, feePerReplacement: fee, maxFeesPerDay: fee + fee / 2n }]));
  const funded = parseEther("50");
  await send(owner.token.write.approve([vault, funded]));
  await send(vaultAs.write.fund([funded]));
  const provider = walletClient(chain, devAccount(10).account);
  for (const [i, node] of nodes.entries()) {
    const stake = parseEther("100");
    await send(node.token.write.approve([autoscalerNetwork.address, stake]));
    const network = getContract({ address: autoscalerNetwork.address, abi: autoscalerNetworkAbi, client: node.wallet });
    const profile = {
      endpoint: `http://127.0.0.1:${7100 + i}`,
      encryptionKey: keccak256(stringToHex(`node ${i}`)),
      dnsIpv4: "0x7f000001" as Hex,
      dnsIpv6: `0x${"00".repeat(16)}` as Hex,
    };
    await send(network.write.register([profile, stake]));
    const quote: Quote = {
      provider: provider.account.address,
      publisher: vault,
      specHash: scenario.specHash,
      resources: podResources,
      pricePerSecond: price,
      validUntil: Number((await client.getBlock({ blockTag: "latest" })).timestamp) + 600,
      attestationHash: keccak256(stringToHex("networked attestation")),
      nonce: 2_000n + BigInt(i),
    };
    const signature = await provider.signTypedData(quoteTypedData(quote, viemChain.id, podnetMarket.address));
    const asNode = getContract({ address: vault, abi: appVaultAbi, client: { public: client, wallet: node.wallet } });
    await send(asNode.write.replaceSlot([BigInt(i), 0n, quote, signature, price * 3600n]));
  }
  const last = getContract({ address: autoscalerNetwork.address, abi: autoscalerNetworkAbi, client: nodes[1].wallet });
  await send(last.write.startExit());
  return {
    vault,
    nodes: [nodes[0].wallet.account.address, nodes[1].wallet.account.address],
    fees: [fee, fee / 2n],
    funded,
  };
}

beforeAll(async () => {
  chain = await startLocalChain(mkdtempSync(join(tmpdir(), "podnet-indexer-apps-")));
  scenario = await runAppScenario(chain);
  rogue = await rogueFactoryApp();
  networked = await networkModeApp();
  indexer = await startIndexer({ chain, schema: "apps" });
  const { client } = clients(chain);
  await waitForIndexedBlock(indexer, (await client.getBlock({ blockTag: "latest" })).number);
}, 240_000);

afterAll(async () => {
  await indexer?.stop();
  chain?.stop();
});

type AppGql = {
  vault: string;
  owner: string;
  pendingOwner: string | null;
  salt: string;
  specHash: string;
  configHash: string;
  maxPricePerSecond: string;
  maxDepositPerLease: string;
  maxInstances: number;
  balance: string;
  fundedTotal: string;
  withdrawnTotal: string;
  spentTotal: string;
  returnedTotal: string;
  controllers: { items: { controller: string; enabled: boolean }[] };
  slots: { items: { slot: number; leaseId: string | null; updatedBy: string; lease: { status: string } | null }[] };
  events: { items: { kind: string; amount: string | null }[] };
};

const appQuery = (vault: string) => `{
  app(vault: "${vault}") {
    vault owner pendingOwner salt specHash configHash maxPricePerSecond maxDepositPerLease maxInstances balance
    fundedTotal withdrawnTotal spentTotal returnedTotal
    controllers { items { controller enabled } }
    slots { items { slot leaseId updatedBy lease { status } } }
    events(limit: 1000) { items { kind amount } }
  }
}`;

async function getApp(vault: string) {
  const response = await fetch(`${indexer.url}${indexerApiRoutes.app.path(vault)}`);
  return { status: response.status, body: (await response.json()) as AppResponse & ApiErrorBody };
}

describe("the app the deployment's factory created", () => {
  it("is indexed as the vault reads on chain: owner, pending owner, hashes, limits, balance to the base unit", async () => {
    const { app } = await graphql<{ app: AppGql | null }>(indexer, appQuery(scenario.vault));
    expect(app).not.toBeNull();
    if (!app) return;
    const { client } = clients(chain);
    const vault = getContract({ address: scenario.vault, abi: appVaultAbi, client });
    const limits = await vault.read.limits();
    expect({
      owner: getAddress(app.owner),
      pendingOwner: app.pendingOwner && getAddress(app.pendingOwner),
      specHash: app.specHash,
      configHash: app.configHash,
      maxPricePerSecond: BigInt(app.maxPricePerSecond),
      maxDepositPerLease: BigInt(app.maxDepositPerLease),
      maxInstances: app.maxInstances,
      balance: BigInt(app.balance),
    }).toEqual({
      owner: await vault.read.owner(),
      pendingOwner: await vault.read.pendingOwner(),
      specHash: await vault.read.specHash(),
      configHash: await vault.read.configHash(),
      maxPricePerSecond: limits.maxPricePerSecond,
      maxDepositPerLease: limits.maxDepositPerLease,
      maxInstances: limits.maxInstances,
      balance: await contracts(chain).token.read.balanceOf([scenario.vault]),
    });
    expect(BigInt(app.balance)).toBe(await vault.read.balance());
    expect(app.salt).toBe(scenario.salt);
    // The scenario's ownership transfer is pending, not accepted.
    expect(getAddress(app.pendingOwner ?? "0x")).toBe(scenario.nextOwner);
  });

  it("adds up its flows: funded - withdrawn - spent + returned + the direct transfer = the balance", async () => {
    const { app } = await graphql<{ app: AppGql }>(indexer, appQuery(scenario.vault));
    expect(BigInt(app.fundedTotal)).toBe(scenario.amounts.funded);
    expect(BigInt(app.withdrawnTotal)).toBe(scenario.amounts.withdrawn);
    const flows =
      BigInt(app.fundedTotal) - BigInt(app.withdrawnTotal) - BigInt(app.spentTotal) + BigInt(app.returnedTotal);
    // The tokens sent without a Funded event are in the balance (read from the chain), not in the flows.
    expect(BigInt(app.balance) - flows).toBe(scenario.amounts.directTransfer);
    // Every logged amount is in a total: the log and the totals agree to the base unit.
    const byKind = (kinds: string[]) =>
      app.events.items.filter((e) => kinds.includes(e.kind)).reduce((sum, e) => sum + BigInt(e.amount ?? 0), 0n);
    expect(byKind(["lease_deposit", "lease_top_up", "order_deposit", "dispute_bond"])).toBe(BigInt(app.spentTotal));
    expect(byKind(["lease_refund", "order_refund", "compensation", "dispute_bond_returned"])).toBe(
      BigInt(app.returnedTotal),
    );
    expect(app.events.items.map((e) => e.kind)).toEqual(
      expect.arrayContaining([
        "created",
        "funded",
        "slot_replaced",
        "lease_deposit",
        "lease_top_up",
        "lease_refund",
        "slot_cleared",
        "order_deposit",
        "lease_matched",
        "order_refund",
        "dispute_bond",
        "dispute_bond_returned",
        "compensation",
        "withdrawn",
      ]),
    );
  });

  it("has the chain's controllers: the removed one disabled, the added one enabled", async () => {
    const { app } = await graphql<{ app: AppGql }>(indexer, appQuery(scenario.vault));
    const vault = getContract({ address: scenario.vault, abi: appVaultAbi, client: clients(chain).client });
    expect(app.controllers.items).toHaveLength(2);
    for (const row of app.controllers.items) {
      expect(row.enabled).toBe(await vault.read.isController([getAddress(row.controller)]));
    }
    const enabled = app.controllers.items.filter((c) => c.enabled).map((c) => getAddress(c.controller));
    expect(enabled).toEqual([scenario.controllers.current]);
  });

  it("has the chain's slots, and the leases in them link to the app", async () => {
    const { app } = await graphql<{ app: AppGql }>(indexer, appQuery(scenario.vault));
    const vault = getContract({ address: scenario.vault, abi: appVaultAbi, client: clients(chain).client });
    const { leaseA, leaseB, leaseC, leaseD } = scenario.leases;
    for (const slot of [0, 1, 2]) {
      const row = app.slots.items.find((s) => s.slot === slot);
      expect(BigInt(row?.leaseId ?? 0), `slot ${slot}`).toBe(await vault.read.leaseOf([BigInt(slot)]));
    }
    expect(app.slots.items.find((s) => s.slot === 0)?.lease?.status).toBe("active");
    expect(app.slots.items.find((s) => s.slot === 1)?.lease?.status).toBe("closed");
    const { leases } = await graphql<{ leases: { items: { id: string; app: string | null }[] } }>(
      indexer,
      `{ leases(where: { app: "${lower(scenario.vault)}" }) { items { id app } } }`,
    );
    expect(leases.items.map((l) => BigInt(l.id)).sort()).toEqual([leaseA, leaseB, leaseC, leaseD]);
    const { orders } = await graphql<{ orders: { items: { id: string; status: string }[] } }>(
      indexer,
      `{ orders(where: { app: "${lower(scenario.vault)}" }) { items { id status } } }`,
    );
    expect(orders.items.map((o) => [BigInt(o.id), o.status]).sort()).toEqual([
      [scenario.orders.matchedOrder, "matched"],
      [scenario.orders.cancelledOrder, "cancelled"],
    ]);
  });

  it("answers GET /apps/:address with its slots' leases, as the chain has them", async () => {
    const { status, body } = await getApp(scenario.vault);
    expect(status).toBe(200);
    const { client } = clients(chain);
    const market = contracts(chain).market;
    const lease = await market.read.getLease([scenario.leases.leaseC]);
    const leaseD = await market.read.getLease([scenario.leases.leaseD]);
    expect(body).toMatchObject({
      vault: lower(scenario.vault),
      owner: lower(scenario.owner),
      pendingOwner: lower(scenario.nextOwner),
      controllers: [lower(scenario.controllers.current)],
      balance: (await contracts(chain).token.read.balanceOf([scenario.vault])).toString(),
      limits: { maxInstances: 2 },
    });
    // Slot 0 was cleared, then filled from an order (lease D); slot 1 holds lease C, which its provider closed.
    expect(body.slots).toEqual([
      expect.objectContaining({
        slot: 0,
        lease: expect.objectContaining({
          leaseId: scenario.leases.leaseD.toString(),
          provider: lower(leaseD.provider),
          status: "active",
          closeReason: null,
          pricePerSecond: leaseD.pricePerSecond.toString(),
        }),
      }),
      expect.objectContaining({
        slot: 1,
        lease: expect.objectContaining({
          leaseId: scenario.leases.leaseC.toString(),
          provider: lower(lease.provider),
          status: "closed",
          closeReason: "provider",
        }),
      }),
    ]);
    expect(BigInt(body.balanceBlock)).toBeLessThanOrEqual((await client.getBlock({ blockTag: "latest" })).number);
  });

  it("refuses a bad address with 400 naming the field, and an unknown one with 404", async () => {
    const bad = await fetch(`${indexer.url}/apps/not-an-address`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ApiErrorBody).error.message).toMatch(/^address: /);
    const unknown = await getApp(scenario.owner);
    expect(unknown.status).toBe(404);
  });
});

describe("the GraphQL examples of docs/indexer.md", () => {
  it("answer: an app with its relations, by owner, by controller, its leases, a lease's app", async () => {
    const vault = lower(scenario.vault);
    const data = await graphql<{
      app: { events: { items: { kind: string }[] }; slots: { items: { lease: { provider: string } | null }[] } };
      apps: { items: { vault: string }[] };
      appControllers: { items: { app: string }[] };
      leases: { items: { id: string }[] };
      lease: { publisher: string; parentApp: { vault: string; owner: string } | null };
    }>(
      indexer,
      `{
        app(vault: "${vault}") {
          owner pendingOwner specHash configHash maxPricePerSecond maxDepositPerLease maxInstances balance balanceBlock
          controllers { items { controller enabled } }
          slots { items { slot leaseId updatedBy lease { provider status closeReason pricePerSecond balance } } }
          events(orderBy: "id", orderDirection: "desc", limit: 20) { items { kind amount account slot leaseId timestamp } }
        }
        apps(where: { owner: "${lower(scenario.owner)}" }) { items { vault specHash balance } }
        appControllers(where: { controller: "${lower(scenario.controllers.current)}", enabled: true }) { items { app } }
        leases(where: { app: "${vault}" }) { items { id provider status startedAt endedAt } }
        lease(id: "${scenario.leases.leaseD}") { publisher parentApp { vault owner } }
      }`,
    );
    // Newest first: the provider's close of lease C refunded the vault last.
    expect(data.app.events.items[0]?.kind).toBe("lease_refund");
    expect(data.app.slots.items.filter((s) => s.lease !== null)).toHaveLength(2);
    expect(data.apps.items.map((a) => a.vault)).toEqual([vault]);
    expect(data.appControllers.items).toEqual([{ app: vault }]);
    expect(data.leases.items).toHaveLength(4);
    expect(data.lease).toEqual({ publisher: vault, parentApp: { vault, owner: lower(scenario.owner) } });
  });
});

describe("another factory's AppCreated and vault (hostile)", () => {
  it("creates no app: only the deployment's factory's vault is indexed", async () => {
    const { apps } = await graphql<{ apps: { items: { vault: string }[] } }>(indexer, "{ apps { items { vault } } }");
    expect(apps.items.map((a) => a.vault).sort()).toEqual([lower(scenario.vault), lower(networked.vault)].sort());
    expect((await getApp(rogue.vault)).status).toBe(404);
  });

  it("records none of the other vault's events, and its lease belongs to no app", async () => {
    const { appEvents } = await graphql<{ appEvents: { items: { id: string }[] } }>(
      indexer,
      `{ appEvents(where: { app: "${lower(rogue.vault)}" }) { items { id } } }`,
    );
    expect(appEvents.items).toEqual([]);
    const { lease } = await graphql<{ lease: { publisher: string; app: string | null } | null }>(
      indexer,
      `{ lease(id: "${rogue.leaseId}") { publisher app } }`,
    );
    expect(lease).toEqual({ publisher: lower(rogue.vault), app: null });
  });
});

describe("an app in network mode and the autoscaler nodes", () => {
  it("records the terms and each fee to the node that placed the lease, and reconciles to the base unit", async () => {
    const { body } = await getApp(networked.vault);
    expect(body.network).toEqual({
      enabled: true,
      feePerReplacement: parseEther("1").toString(),
      maxFeesPerDay: parseEther("1.5").toString(),
    });
    expect(BigInt(body.nodeFeesTotal)).toBe(networked.fees[0] + networked.fees[1]);
    const balance = await contracts(chain).token.read.balanceOf([networked.vault]);
    expect(BigInt(body.balance)).toBe(balance);
    // funded - withdrawn - spent + returned - node fees = the balance, with no direct transfer to this app.
    const flows =
      BigInt(body.fundedTotal) -
      BigInt(body.withdrawnTotal) -
      BigInt(body.spentTotal) +
      BigInt(body.returnedTotal) -
      BigInt(body.nodeFeesTotal);
    expect(flows).toBe(balance);
    expect(BigInt(body.fundedTotal)).toBe(networked.funded);
    const { appEvents } = await graphql<{
      appEvents: { items: { kind: string; amount: string; account: string; slot: number; leaseId: string }[] };
    }>(
      indexer,
      `{ appEvents(where: { app: "${lower(networked.vault)}", kind: "node_fee" }, orderBy: "slot") { items { kind amount account slot leaseId } } }`,
    );
    expect(appEvents.items.map((e) => [e.account, e.slot, BigInt(e.amount)])).toEqual([
      [lower(networked.nodes[0]), 0, networked.fees[0]],
      [lower(networked.nodes[1]), 1, networked.fees[1]],
    ]);
    // Each fee names the lease its node placed: the slot's lease on chain.
    const vault = getContract({ address: networked.vault, abi: appVaultAbi, client: clients(chain).client });
    expect(appEvents.items.map((e) => BigInt(e.leaseId))).toEqual([
      await vault.read.leaseOf([0n]),
      await vault.read.leaseOf([1n]),
    ]);
  });

  it("answers GET /network/nodes as the chain has them: stake, fees earned, the exiting node not live", async () => {
    const response = await fetch(`${indexer.url}${indexerApiRoutes.networkNodes.path()}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as NetworkNodesResponse;
    expect({ period: body.heartbeatPeriod, window: body.livenessWindow }).toEqual({ period: 60, window: 90 });
    const network = getContract({
      address: chain.deployment.contracts.autoscalerNetwork.address,
      abi: autoscalerNetworkAbi,
      client: clients(chain).client,
    });
    const byAddress = new Map(body.nodes.map((n) => [getAddress(n.address), n]));
    for (const [i, address] of networked.nodes.entries()) {
      const row = byAddress.get(address);
      const onChain = await network.read.getNode([address]);
      expect(row).toMatchObject({
        status: i === 0 ? "active" : "exiting",
        live: await network.read.isLive([address]),
        endpoint: onChain.profile.endpoint,
        encryptionKey: onChain.profile.encryptionKey,
        stake: onChain.stake.toString(),
        lastHeartbeat: onChain.lastHeartbeat.toString(),
        feesEarned: networked.fees[i]?.toString(),
        replacements: 1,
      });
    }
    expect(byAddress.get(networked.nodes[0])?.live).toBe(true);
    expect(byAddress.get(networked.nodes[1])?.live).toBe(false);
  });
});
