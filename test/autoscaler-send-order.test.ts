/**
 * The autoscaler's wallet sends one transaction at a time (autoscaler/src/chain-connection.ts `oneSendAtATime`): a
 * network node's heartbeats and its app runners' vault calls share one key, and transactions sent at once must not
 * read the same pending nonce. Real anvil, the real deployment.
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Devnet, devAccount, ensureGas } from "@podnet/devnet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectChain } from "../autoscaler/src/chain-connection.js";

let devnet: Devnet;

beforeAll(async () => {
  devnet = await Devnet.start({ dir: mkdtempSync(join(tmpdir(), "podnet-send-order-")) });
}, 120_000);

afterAll(() => devnet?.stop());

describe("the autoscaler's wallet", () => {
  it("sends many transactions at once from one key: every one is mined, each with its own nonce", async () => {
    const { privateKey, account } = devAccount(97);
    await ensureGas(devnet.chain, account.address);
    const connection = await connectChain({
      rpcUrl: devnet.chain.rpcUrl,
      deploymentsFile: devnet.chain.deploymentsFile,
      key: privateKey,
    });
    const start = await connection.publicClient.getTransactionCount({ address: account.address });
    // Eight at once, as a node's heartbeat, top-ups and placements may go: without the queue, they read one nonce.
    const hashes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        connection.walletClient.sendTransaction({
          account: connection.walletClient.account ?? null,
          chain: connection.chain,
          to: account.address,
          value: BigInt(i + 1),
        }),
      ),
    );
    const receipts = await Promise.all(
      hashes.map((hash) => connection.publicClient.waitForTransactionReceipt({ hash })),
    );
    expect(receipts.map((r) => r.status)).toEqual(Array(8).fill("success"));
    const nonces = await Promise.all(
      hashes.map(async (hash) => (await connection.publicClient.getTransaction({ hash })).nonce),
    );
    expect(nonces.sort((a, b) => a - b)).toEqual(Array.from({ length: 8 }, (_, i) => start + i));
  });
});
