/**
 * Deterministic Docker names and labels of a provider's pods.
 *
 * Names are a function of (provider, lease, spec, container, replica) only. That is what keeps a restarted worker, or
 * two workers racing on one engine, from ever running a pod twice: Docker refuses a second container, network or
 * volume with the same name, so whoever comes second adopts what the first created. Labels carry the same facts in
 * parseable form, so one labelled `docker ps` tells the reconcile loop everything it needs.
 */
import { type Address, type Hex, isAddress } from "viem";

/** Label keys written on every container, network and volume the worker creates. */
export const LABELS = {
  managed: "podnet.managed",
  provider: "podnet.provider",
  lease: "podnet.lease",
  spec: "podnet.spec",
  container: "podnet.container",
  replica: "podnet.replica",
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

/** Name prefix of everything a provider creates: `podnet-<first 8 hex digits of the address>`. */
export function namePrefix(provider: Address): string {
  if (!isAddress(provider, { strict: false })) throw new Error(`not an address: ${provider}`);
  return `podnet-${provider.slice(2, 10).toLowerCase()}`;
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
export function containerName(provider: Address, pod: PodRef, container: string, replica: number): string {
  checkLease(pod.leaseId);
  return `${namePrefix(provider)}-l${pod.leaseId}-${specPart(pod.specHash)}-${container}-${replica}`;
}

/** The lease's bridge network, shared by every spec of the lease so an update keeps the same network. */
export function networkName(provider: Address, leaseId: bigint): string {
  checkLease(leaseId);
  return `${namePrefix(provider)}-l${leaseId}`;
}

/** A persistent volume: no spec in the name, so it survives updates of the pod; removed with the lease. */
export function persistentVolumeName(provider: Address, leaseId: bigint, volume: string, replica: number): string {
  checkLease(leaseId);
  return `${namePrefix(provider)}-l${leaseId}-${volume}-r${replica}`;
}

/** An empty (scratch) volume: new for every spec, so an update starts from an empty directory. */
export function emptyVolumeName(provider: Address, pod: PodRef, volume: string, replica: number): string {
  checkLease(pod.leaseId);
  return `${namePrefix(provider)}-l${pod.leaseId}-${specPart(pod.specHash)}-${volume}-r${replica}`;
}

/** Labels every object of the provider carries: what `listContainers`, `listNetworks`, `listVolumes` filter on. */
export function providerLabels(provider: Address): Record<string, string> {
  return { [LABELS.managed]: "true", [LABELS.provider]: provider.toLowerCase() };
}

/** Labels of every object of a lease. */
export function leaseLabels(provider: Address, leaseId: bigint): Record<string, string> {
  checkLease(leaseId);
  return { ...providerLabels(provider), [LABELS.lease]: leaseId.toString() };
}

/** Labels of one container of a pod (the port and config labels are added by the container spec). */
export function containerLabels(
  provider: Address,
  pod: PodRef,
  container: string,
  replica: number,
): Record<string, string> {
  specPart(pod.specHash);
  return {
    ...leaseLabels(provider, pod.leaseId),
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
