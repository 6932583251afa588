import { createReadStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type Address, getAddress, type Hex } from "viem";
import { getApp } from "./actions/get-app.js";
import { getAutoscalerNode } from "./actions/get-autoscaler-node.js";
import { getLiveAutoscalerNodes } from "./actions/get-live-autoscaler-nodes.js";
import { providerFetch, providerJson } from "./actions/internal/provider-api.js";
import { requestSigner, requireWallet, selfEncryptionKey } from "./actions/internal/wallet.js";
import type { PodnetClient } from "./client.js";
import { type ErrorType, InvalidParameterError, ProviderApiError } from "./errors.js";
import { handoverHashes, signHandoverBundle } from "./network-handover-bundle.js";
import { appVaultAbi } from "./protocol/index.js";
import { parseRecipientKey, sealBlobKeys } from "./share-blob-keys.js";

/** An autoscaler node as the owner hands an app to it: its address, API endpoint and registered X25519 key. */
export interface NetworkNode {
  address: Address;
  endpoint: string;
  /** The node's registered `encryptionKey` (X25519 public, 0x + 64 hex). */
  encryptionKey: Hex;
}

export type HandAppToNetworkParameters = {
  vault: Address;
  /** The app folder: pod.yaml and app.yaml as recorded on chain. The blobs come from the client's blob cache. */
  dir: string;
  /** Hand to these nodes only (default: every live node of the network, read on chain). */
  nodes?: readonly NetworkNode[];
};

/** Per node: whether it holds the app now, and what was uploaded to it. */
export type HandoverResult =
  | { node: Address; endpoint: string; ok: true; uploaded: string[]; created: boolean }
  | { node: Address; endpoint: string; ok: false; error: string };

export type HandAppToNetworkReturnType = HandoverResult[];
export type HandAppToNetworkErrorType = InvalidParameterError | ErrorType;

/**
 * Hands an app to the autoscaler network: for every node, re-wraps the content keys of the blobs pod.yaml names to the
 * node's registered X25519 key (`sealBlobKeys`, the rule `podnet app share-keys` uses), uploads the ciphertext the
 * node lacks (signed requests as the owner), and PUTs a bundle signed by the owner for that node
 * (network-handover-bundle.ts). A node that fails does not stop the others: the result says which got it.
 *
 * Checked before any node is contacted: the wallet owns the vault, the vault is in network mode, pod.yaml and app.yaml
 * hash to the vault's spec and config hashes, and the owner's cache opens every blob's key.
 *
 * @throws {InvalidParameterError} naming `vault`, `dir` or `nodes` when the app cannot be handed over at all.
 * @example
 * const results = await handAppToNetwork(client, { vault, dir: "my-app" });
 * for (const r of results) console.log(r.node, r.ok ? "holds the app" : r.error);
 */
export async function handAppToNetwork(
  client: PodnetClient,
  params: HandAppToNetworkParameters,
): Promise<HandAppToNetworkReturnType> {
  const action = "handAppToNetwork";
  const { address: owner } = requireWallet(client, action);
  const read = (name: string) => {
    try {
      return readFileSync(join(params.dir, name), "utf8");
    } catch (error) {
      throw new InvalidParameterError(
        "dir",
        `${join(params.dir, name)}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`,
      );
    }
  };
  const podYaml = read("pod.yaml");
  const appYaml = read("app.yaml");
  const hashes = handoverHashes({ podYaml, appYaml, blobs: [] });
  const app = await getApp(client, { vault: params.vault });
  if (app.owner.toLowerCase() !== owner.toLowerCase()) {
    throw new InvalidParameterError("vault", `${app.vault} is owned by ${app.owner}, not by this wallet (${owner})`);
  }
  const terms = await client.publicClient.readContract({
    address: app.vault,
    abi: appVaultAbi,
    functionName: "networkTerms",
  });
  if (!terms.enabled) {
    // Every node refuses such an app: said once here instead of once per node.
    throw new InvalidParameterError("vault", `${app.vault} is not in network mode (setNetworkTerms first)`);
  }
  if (hashes.specHash !== app.specHash) {
    throw new InvalidParameterError(
      "dir",
      `pod.yaml hashes to ${hashes.specHash}, the vault's spec is ${app.specHash} (podnet app update)`,
    );
  }
  if (hashes.configHash !== app.configHash) {
    throw new InvalidParameterError(
      "dir",
      `app.yaml hashes to ${hashes.configHash}, the vault's config is ${app.configHash} (podnet app update)`,
    );
  }
  const self = await selfEncryptionKey(client, action);
  // Opens every key once first: a blob the owner's cache lacks stops the handover before any node is contacted.
  sealBlobKeys({ from: client.blobCache, self, recipient: self.publicKey, cids: hashes.podBlobs });
  const nodes = params.nodes ?? (await readLiveNodes(client));
  const signer = requestSigner(client, action);
  return Promise.all(
    nodes.map(async (node): Promise<HandoverResult> => {
      const address = getAddress(node.address);
      try {
        const recipient = parseNodeKey(node);
        const blobs = sealBlobKeys({ from: client.blobCache, self, recipient, cids: hashes.podBlobs });
        const target = { provider: address, endpoint: node.endpoint };
        const uploaded: string[] = [];
        for (const { cid } of blobs) {
          const path = `/v1/apps/${app.vault}/blobs/${cid}`;
          if (await nodeHas(client, target, path)) continue;
          await providerFetch(client, action, target, {
            method: "PUT",
            path,
            signed: true,
            unsignedBody: Readable.toWeb(createReadStream(client.blobCache.path(cid))) as ReadableStream<Uint8Array>,
          });
          uploaded.push(cid);
        }
        const bundle = await signHandoverBundle(
          signer,
          client.deployment.chainId,
          { vault: app.vault, node: address, podYaml, appYaml, blobs },
          await nextIssuedAt(client, target, app.vault),
        );
        const answer = await providerJson<{ created: boolean }>(client, action, target, {
          method: "PUT",
          path: `/v1/apps/${app.vault}/bundle`,
          json: bundle,
        });
        return { node: address, endpoint: node.endpoint, ok: true, uploaded, created: answer.created };
      } catch (error) {
        return { node: address, endpoint: node.endpoint, ok: false, error: (error as Error).message };
      }
    }),
  );
}

function parseNodeKey(node: NetworkNode): Uint8Array {
  try {
    return parseRecipientKey(node.encryptionKey);
  } catch (error) {
    throw new InvalidParameterError(
      "nodes",
      `${node.address}: encryptionKey ${(error as Error).message.replace(/^recipient: /, "")}`,
    );
  }
}

/**
 * Now, or one second past the bundle the node holds when that is as new: a node refuses an older bundle and another
 * one issued the same second (keys are wrapped afresh each time, so a second handover in one second differs).
 */
async function nextIssuedAt(
  client: PodnetClient,
  target: { provider: Address; endpoint: string },
  vault: Address,
): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  try {
    const held = await providerJson<{ issuedAt?: unknown }>(client, "handAppToNetwork", target, {
      method: "GET",
      path: `/v1/apps/${vault}/bundle`,
    });
    return typeof held.issuedAt === "number" && held.issuedAt >= now ? held.issuedAt + 1 : now;
  } catch (error) {
    if (error instanceof ProviderApiError && error.status === 404) return now;
    throw error;
  }
}

/** Whether the node already holds a blob's ciphertext (HEAD answers 200), so it is not sent twice. */
async function nodeHas(
  client: PodnetClient,
  target: { provider: Address; endpoint: string },
  path: string,
): Promise<boolean> {
  try {
    await providerFetch(client, "handAppToNetwork", target, { method: "HEAD", path });
    return true;
  } catch (error) {
    if (error instanceof ProviderApiError && error.status === 404) return false;
    throw error;
  }
}

/**
 * The network's live nodes with their profiles, in the network's order: the live list (`getLiveAutoscalerNodes`) and
 * each node's registered endpoint and X25519 key (`getAutoscalerNode`).
 */
export async function readLiveNodes(client: PodnetClient): Promise<NetworkNode[]> {
  const { nodes } = await getLiveAutoscalerNodes(client);
  return Promise.all(
    nodes.map(async (address) => {
      const { profile } = await getAutoscalerNode(client, { node: address });
      return { address: getAddress(address), endpoint: profile.endpoint, encryptionKey: profile.encryptionKey };
    }),
  );
}
