/**
 * The admin API's write path on a real chain (anvil and the deployed contracts, no Docker): a signed-in session and
 * an addon token with the `listing` scope pause and resume the provider's listing through the worker's transaction
 * queue, the registry changes on chain, and a revert comes back with the contract's error name. The authentication
 * attacks themselves are worker/src/admin/admin.test.ts's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clients, devAccount, type LocalChain, listProvider, startLocalChain, TOKEN } from "@podnet/devnet";
import { type ApiErrorBody, providerRegistryAbi } from "@podnet/sdk/protocol";
import { keccak256, stringToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminApi } from "../worker/src/admin/app.js";
import { consoleLink } from "../worker/src/admin/console-command.js";
import { stubContextBase, stubReconciler } from "../worker/src/api/stub-context.js";
import { connectChain } from "../worker/src/chain/connect.js";
import { TxQueue } from "../worker/src/chain/tx-queue.js";
import { loadConfig } from "../worker/src/config.js";
import type { WorkerContext } from "../worker/src/context.js";
import { readProfile } from "../worker/src/market/provider-profile.js";
import { RouteTable } from "../worker/src/pods/routes.js";

const ORIGIN = "http://127.0.0.1:7071";
const provider = devAccount(63);
const dir = mkdtempSync(join(tmpdir(), "podnet-admin-chain-"));
let chain: LocalChain;
let ctx: WorkerContext;
let admin: ReturnType<typeof createAdminApi>;

beforeAll(async () => {
  chain = await startLocalChain(join(dir, "chain"));
  await listProvider(chain, provider.account, {
    stake: 1000n * TOKEN,
    encryptionKey: keccak256(stringToHex("x25519")),
    pricing: { perCpuMilli: 1n, perMemoryMiB: 1n, perStorageMiB: 1n, flat: 1n },
  });
  const config = loadConfig({
    env: {
      PODNET_PROVIDER_KEY: provider.privateKey,
      PODNET_RPC_URL: chain.rpcUrl,
      PODNET_DEPLOYMENTS_FILE: chain.deploymentsFile,
      PODNET_DATA_DIR: join(dir, "data"),
    },
  });
  const connected = await connectChain(config);
  const base = stubContextBase();
  ctx = {
    ...base,
    config,
    chain: connected,
    txs: new TxQueue(connected, base.log),
    profile: await readProfile(connected),
    refreshProfile: async () => {
      ctx.profile = await readProfile(connected);
    },
  } as unknown as WorkerContext;
  admin = createAdminApi({
    ctx,
    reconciler: stubReconciler(),
    ingressRoutes: new RouteTable("pods.localhost"),
    origins: () => [ORIGIN],
  });
}, 180_000);

afterAll(() => {
  chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function registryStatus() {
  return clients(chain).client.readContract({
    address: chain.deployment.contracts.providerRegistry.address,
    abi: providerRegistryAbi,
    functionName: "statusOf",
    args: [provider.account.address],
  });
}

async function post(path: string, headers: Record<string, string>, body?: unknown) {
  return admin.request(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { origin: ORIGIN, "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe("admin API: pausing and resuming the listing on chain", () => {
  it("a session pauses and resumes; pausing twice answers the registry's revert; a listing token does it too", async () => {
    const token = /#token=([\w-]+)/.exec(consoleLink(ctx.config))?.[1] as string;
    const signIn = await post("/admin/v1/sign-in/link", {}, { token });
    expect(signIn.status).toBe(200);
    const cookie = `podnet_admin=${/podnet_admin=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")?.[1]}`;
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    const session = { cookie, "x-csrf-token": csrfToken };
    expect(await registryStatus()).toBe(1);

    const paused = await post("/admin/v1/listing/pause", session);
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ status: "paused", tx: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    expect(await registryStatus()).toBe(2);

    const again = await post("/admin/v1/listing/pause", session);
    expect(again.status).toBe(409);
    expect(((await again.json()) as ApiErrorBody).error.message).toBe("pause: RegistryWrongStatus");
    expect(await registryStatus()).toBe(2);

    const created = await post("/admin/v1/tokens", session, { name: "ops", scopes: ["listing"], expiresIn: 600 });
    const { token: bearer } = (await created.json()) as { token: string };
    const resumed = await admin.request(`${ORIGIN}/admin/v1/listing/resume`, {
      method: "POST",
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ status: "active" });
    expect(await registryStatus()).toBe(1);
  });
});
