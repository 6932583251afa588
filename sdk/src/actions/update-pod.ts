import type { GetContractEventsErrorType, Hash } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type BlobCacheErrorType,
  BlobNotFoundError,
  type BlobNotFoundErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
  type ManifestErrorType,
  NotFoundError,
  type NotFoundErrorType,
} from "../errors.js";
import { manifestBlobs, manifestHash, manifestResources, parseManifest, podnetMarketAbi } from "../protocol/index.js";
import {
  type DeployPodErrorType,
  type DeployPodParameters,
  type DeployPodReturnType,
  deployPod,
} from "./deploy-pod.js";
import { addresses, fromBlock, type WriteAndWaitErrorType, writeAndWait } from "./internal/chain.js";
import { type ActiveLeaseTargetErrorType, leaseTarget } from "./internal/lease.js";

export type UpdatePodParameters = DeployPodParameters;

export type UpdatePodReturnType = DeployPodReturnType & {
  /** The updateLeaseSpec transaction; absent when the lease already ran this spec. */
  txHash?: Hash;
};

export type UpdatePodErrorType =
  | ManifestErrorType
  | ActiveLeaseTargetErrorType
  | GetContractEventsErrorType
  | NotFoundErrorType
  | InvalidParameterErrorType
  | BlobNotFoundErrorType
  | BlobCacheErrorType
  | WriteAndWaitErrorType
  | DeployPodErrorType
  | ErrorType;

/**
 * Replaces a running pod: points the lease at the new manifest's spec hash on chain (`updateLeaseSpec`), then sends
 * the manifest (`deployPod`: blobs the provider lacks are uploaded or fetched from sources). The provider starts the
 * new containers before removing the old ones (old first when the pod has TCP ports); persistent volumes are kept.
 * The new pod must fit in the resources the lease pays for; that is checked before the transaction.
 *
 * @throws {InvalidParameterError} when the new pod needs more resources than the lease pays for.
 * @example
 * const { image } = await client.prepareImage({ tarball: "web-v2.tar" });
 * await client.updatePod({ leaseId, manifest: { ...manifest, containers: [{ ...web, image }] } });
 * await client.waitForPod({ leaseId });
 */
export async function updatePod(client: PodnetClient, params: UpdatePodParameters): Promise<UpdatePodReturnType> {
  const manifest = parseManifest(params.manifest);
  const specHash = manifestHash(manifest);
  const { lease } = await leaseTarget(client, "updatePod", params.leaseId, { active: true });
  const { market } = addresses(client);
  const [created] = await client.publicClient.getContractEvents({
    address: market,
    abi: podnetMarketAbi,
    eventName: "LeaseCreated",
    args: { leaseId: params.leaseId },
    fromBlock: fromBlock(client),
    toBlock: "latest",
  });
  if (!created) throw new NotFoundError("lease", params.leaseId.toString(), "no LeaseCreated event");
  const paid = created.args.resources as { cpuMillis: number; memoryMiB: number; storageMiB: number };
  const needs = manifestResources(manifest);
  if (needs.cpuMillis > paid.cpuMillis || needs.memoryMiB > paid.memoryMiB || needs.storageMiB > paid.storageMiB) {
    throw new InvalidParameterError(
      "manifest",
      `the pod needs ${JSON.stringify(needs)}, lease ${params.leaseId} pays for ${JSON.stringify(paid)}`,
    );
  }
  // A blob deployPod could not give a key for must fail before the spec changes on chain.
  for (const cid of manifestBlobs(manifest)) {
    if (!params.contentKeys?.[cid] && !client.blobCache.has(cid)) {
      throw new BlobNotFoundError(cid, "its content key is neither in the blob cache nor in contentKeys");
    }
  }
  let txHash: Hash | undefined;
  if (lease.specHash.toLowerCase() !== specHash.toLowerCase()) {
    const receipt = await writeAndWait(client, "updatePod", {
      address: market,
      abi: podnetMarketAbi,
      functionName: "updateLeaseSpec",
      args: [params.leaseId, specHash],
    });
    txHash = receipt.transactionHash;
  }
  const deployed = await deployPod(client, { ...params, manifest });
  return { ...deployed, ...(txHash ? { txHash } : {}) };
}
