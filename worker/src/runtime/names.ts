/**
 * Deterministic Docker names and labels of a worker instance's pods.
 *
 * Names are a function of (instance, lease, spec, container, replica) only. That is what keeps a restarted worker, or
 * two workers racing on one engine, from ever running a pod twice: Docker refuses a second container, network or
 * volume with the same name, so whoever comes second adopts what the first created. Labels carry the same facts in
 * parseable form, so one labelled `docker ps` tells the reconcile loop everything it needs.
 *
 * The instance is one provider key on one deployment of the market: two workers with the same key on one engine (a
 * stray one left against a dead test chain, and a new run's) must never see each other's objects, or each removes
 * the other's pods as "not leased on my chain".
 */
import { type Address, encodeAbiParameters, type Hex, isAddress, isHex, keccak256 } from "viem";

/** Label keys written on every container, network and volume the worker creates. */
export const LABELS = {
  managed: "podnet.managed",
  provider: "podnet.provider",
  /**
   * The {@link WorkerInstance} tag: every listing filters on it. One label rather than `podnet.chain` and
   * `podnet.market`, because those two do not tell two deployments apart (anvil deploys to the same addresses on every
   * new chain): the tag also covers the deploy block's hash, and the same 8 hex digits appear in the names and the
   * firewall chains, so a `docker ps` line leads to its worker (which logs its tag with chain and market at start).
   */
  instance: "podnet.instance",
  lease: "podnet.lease",
  spec: "podnet.spec",
  container: "podnet.container",
  replica: "podnet.replica",
  /** A pod network's slot in the worker's subnet pool: what names it (it may be made before its lease exists). */
  slot: "podnet.slot",
  /** A slot's infra container (infra-containers in docker-runtime.ts): `infra`. Pod containers have none. */
  role: "podnet.role",
  /** Volumes: the manifest's volume name. */
  volume: "podnet.volume",
  /** Volumes: `persistent` or `empty`. */
  volumeType: "podnet.volume-type",
  /** Containers: comma-separated container ports published for HTTP ingress, e.g. `8080,9090`. */
  httpPorts: "podnet.http-ports",
  /** Containers: comma-separated `containerPort:hostPort` of raw TCP exposes, e.g. `5432:30001`. */
  tcpPorts: "podnet.tcp-ports",
  /** Containers: hash of the create options, to notice a container that no longer matches its plan. */
  config: "podnet.config",
} as const;

const SPEC_HASH = /^0x[0-9a-f]{64}$/;

/** The pod a Docker object belongs to. */
export interface PodRef {
  leaseId: bigint;
  specHash: Hex;
}

/** Whose Docker objects these are: one provider key on one deployment of the market. See {@link workerInstance}. */
export interface WorkerInstance {
  provider: Address;
  /** 8 hex digits: what the `podnet.instance` label, the names and the firewall chains carry. */
  tag: string;
}

const TAG = /^[0-9a-f]{8}$/;

/**
 * The worker instance of `provider` on the market deployed at `market` on chain `chainId`, in the block whose hash is
 * `deployBlockHash`. The block hash is part of it because chain id and market address alone do not tell two local
 * chains apart (a redeploy on a fresh anvil lands on the same addresses); on a public chain it never changes.
 * @throws {Error} naming the field that is malformed.
 */
export function workerInstance(identity: {
  chainId: number;
  market: Address;
  deployBlockHash: Hex;
  provider: Address;
}): WorkerInstance {
  const { chainId, market, deployBlockHash, provider } = identity;
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new Error(`chainId: not a positive integer: ${chainId}`);
  if (!isAddress(market, { strict: false })) throw new Error(`market: not an address: ${market}`);
  if (!isHex(deployBlockHash) || deployBlockHash.length !== 66) {
    throw new Error(`deployBlockHash: not a block hash (0x + 64 hex digits): ${deployBlockHash}`);
  }
  if (!isAddress(provider, { strict: false })) throw new Error(`provider: not an address: ${provider}`);
  // Lowercase: the same instance whichever checksum case the config or deployment file spells the addresses in.
  const [marketLower, providerLower] = [market, provider].map((a) => a.toLowerCase() as Address) as [Address, Address];
  const encoded = encodeAbiParameters(
    [{ type: "uint256" }, { type: "address" }, { type: "bytes32" }, { type: "address" }],
    [BigInt(chainId), marketLower, deployBlockHash, providerLower],
  );
  return { provider: providerLower, tag: keccak256(encoded).slice(2, 10) };
}

/** Name prefix of everything an instance creates: `podnet-<first 8 hex digits of the provider>-<tag>`. */
export function namePrefix(instance: WorkerInstance): string {
  checkInstance(instance);
  return `podnet-${instance.provider.slice(2, 10).toLowerCase()}-${instance.tag}`;
}

function checkInstance({ provider, tag }: WorkerInstance): void {
  if (!isAddress(provider, { strict: false })) throw new Error(`not an address: ${provider}`);
  if (!TAG.test(tag)) throw new Error(`not an instance tag (8 lowercase hex digits): ${tag}`);
}

function checkLease(leaseId: bigint): void {
  if (leaseId < 0n) throw new Error(`lease id must not be negative: ${leaseId}`);
}

function specPart(specHash: Hex): string {
  const spec = specHash.toLowerCase();
  if (!SPEC_HASH.test(spec)) throw new Error(`not a spec hash (0x + 64 hex digits): ${specHash}`);
  return spec.slice(2, 10);
}

/** `<prefix>-l<lease>-<spec8>-<container>-<replica>`. */
export function containerName(instance: WorkerInstance, pod: PodRef, container: string, replica: number): string {
  checkLease(pod.leaseId);
  return `${namePrefix(instance)}-l${pod.leaseId}-${specPart(pod.specHash)}-${container}-${replica}`;
}

/**
 * A pod network, named by its slot in the worker's subnet pool rather than by a lease: it may be made warm, before
 * the lease it will serve exists (Docker can neither rename a network nor relabel it). Which lease uses which slot is
 * in the worker's state (`subnets`); every spec of the lease shares it, so an update keeps the same network.
 */
export function slotNetworkName(instance: WorkerInstance, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new Error(`not a subnet slot: ${index}`);
  return `${namePrefix(instance)}-n${index}`;
}

/**
 * The infra container of a slot: the process holding the network namespace a single-container pod on that slot's
 * network joins (`<prefix>-n<slot>-infra`). Named by the slot for the same reason as the network: it is made warm.
 */
export function infraContainerName(instance: WorkerInstance, index: number): string {
  return `${slotNetworkName(instance, index)}-infra`;
}

/** Labels of a slot's infra container: the slot's and the role. */
export function infraLabels(instance: WorkerInstance, index: number): Record<string, string> {
  return { ...slotLabels(instance, index), [LABELS.role]: "infra" };
}

/** Labels of a pod network: the instance's and its slot (no lease: it may be made before its lease). */
export function slotLabels(instance: WorkerInstance, index: number): Record<string, string> {
  slotNetworkName(instance, index);
  return { ...instanceLabels(instance), [LABELS.slot]: String(index) };
}

/** The lease's bridge network as workers before pod-network slots named it (still removed with its lease). */
export function networkName(instance: WorkerInstance, leaseId: bigint): string {
  checkLease(leaseId);
  return `${namePrefix(instance)}-l${leaseId}`;
}

/** A persistent volume: no spec in the name, so it survives updates of the pod; removed with the lease. */
export function persistentVolumeName(
  instance: WorkerInstance,
  leaseId: bigint,
  volume: string,
  replica: number,
): string {
  checkLease(leaseId);
  return `${namePrefix(instance)}-l${leaseId}-${volume}-r${replica}`;
}

/** An empty (scratch) volume: new for every spec, so an update starts from an empty directory. */
export function emptyVolumeName(instance: WorkerInstance, pod: PodRef, volume: string, replica: number): string {
  checkLease(pod.leaseId);
  return `${namePrefix(instance)}-l${pod.leaseId}-${specPart(pod.specHash)}-${volume}-r${replica}`;
}

/**
 * Labels every object of the instance carries: what every `listContainers`, `listNetworks`, `listVolumes` filters
 * on, so another instance's objects (same provider label, other tag) and an older worker's (no tag) are never seen.
 */
export function instanceLabels(instance: WorkerInstance): Record<string, string> {
  checkInstance(instance);
  return {
    [LABELS.managed]: "true",
    [LABELS.provider]: instance.provider.toLowerCase(),
    [LABELS.instance]: instance.tag,
  };
}

/** Labels of every object of a lease. */
export function leaseLabels(instance: WorkerInstance, leaseId: bigint): Record<string, string> {
  checkLease(leaseId);
  return { ...instanceLabels(instance), [LABELS.lease]: leaseId.toString() };
}

/** Labels of one container of a pod (the port and config labels are added by the container spec). */
export function containerLabels(
  instance: WorkerInstance,
  pod: PodRef,
  container: string,
  replica: number,
): Record<string, string> {
  specPart(pod.specHash);
  return {
    ...leaseLabels(instance, pod.leaseId),
    [LABELS.spec]: pod.specHash.toLowerCase(),
    [LABELS.container]: container,
    [LABELS.replica]: String(replica),
  };
}

/** Docker `label` filter values (`key=value`) matching all of `labels`. */
export function labelFilter(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`);
}

/** What the labels of a worker-created container say, or undefined when they are not a complete, valid set. */
export function parseContainerLabels(
  labels: Record<string, string> | undefined,
): { leaseId: bigint; specHash: Hex; container: string; replica: number } | undefined {
  if (labels === undefined) return undefined;
  const lease = labels[LABELS.lease];
  const spec = labels[LABELS.spec];
  const container = labels[LABELS.container];
  const replica = labels[LABELS.replica];
  if (lease === undefined || !/^\d+$/.test(lease)) return undefined;
  if (spec === undefined || !SPEC_HASH.test(spec)) return undefined;
  if (container === undefined || container === "") return undefined;
  if (replica === undefined || !/^\d+$/.test(replica)) return undefined;
  return { leaseId: BigInt(lease), specHash: spec as Hex, container, replica: Number(replica) };
}
