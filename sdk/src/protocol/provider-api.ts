import { type Address, type Hex, keccak256, stringToBytes } from "viem";
import { z } from "zod";
import { canonicalJson } from "./canonical-json.js";
import { isContentId } from "./content-id.js";
import { formatPath, type ManifestIssue } from "./manifest.js";
import type { Quote } from "./types.js";

/**
 * Request and response bodies of the provider API (served by the worker, called by the SDK). Both sides validate
 * with these schemas, so a field's name and limits are defined once.
 */

const UINT32_MAX = 2 ** 32 - 1;
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of 0x-prefixed hex");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");

/** POST /v1/quote: the price of running `resources` for the pod `specHash`, signed as an EIP-712 quote. */
export const quoteRequestSchema = z.strictObject({
  specHash: bytes32,
  resources: z.strictObject({
    cpuMillis: z.int().min(1).max(UINT32_MAX),
    memoryMiB: z.int().min(1).max(UINT32_MAX),
    storageMiB: z.int().min(0).max(UINT32_MAX),
  }),
  /** Binds the quote to one publisher; left out, anyone may use it. */
  publisher: address.optional(),
});
export type QuoteRequest = z.output<typeof quoteRequestSchema>;

/**
 * What a provider states about the machine that will run the pod. Its canonical JSON hashes to the quote's
 * `attestationHash`, so the signed quote commits to it. `tee` is null on machines without TEE evidence.
 */
export interface AttestationDocument {
  version: 1;
  provider: Address;
  worker: { name: string; version: string };
  runtime: {
    kind: "docker";
    version: string;
    os: string;
    arch: string;
    /** cgroup version and driver, e.g. `v1 cgroupfs`. */
    cgroup: string;
    kernel: string;
    /** runc's version as the engine reports it, or null when it does not. */
    runc: string | null;
    /** The engine's storage driver (`btrfs`, `overlay2`, ...). */
    storageDriver: string;
  };
  /**
   * The pod sandbox. The first five hold for every pod (the worker sets them, the manifest cannot); the rest is what
   * the engine and the worker found they enforce on this machine, from `docker info` and the worker's own checks.
   */
  sandbox: {
    privileged: false;
    hostNetwork: false;
    hostPaths: false;
    devices: false;
    capabilities: "none";
    /** Pods run in a user namespace: root in a pod is not root on the host. */
    userns: boolean;
    /** The engine's seccomp profile, or null when none is applied. */
    seccomp: string | null;
    /** The engine's AppArmor profile, or null. */
    apparmor: string | null;
    /** Root file systems and volumes are capped at the sizes the manifest pays for. */
    diskQuota: boolean;
    /** Pods cannot reach the host, private ranges, link-local (cloud metadata) or other pods. */
    egressFirewall: boolean;
    /** Pods may reach the public internet. */
    publicEgress: boolean;
    /** What of the above is not enforced here, in words (empty when everything is). */
    notEnforced: string[];
  };
  tee: null | { kind: string; evidence: string };
  issuedAt: number;
}

/** keccak256 of the attestation document's canonical JSON: the quote's `attestationHash`. */
export function attestationHash(document: AttestationDocument): Hex {
  return keccak256(stringToBytes(canonicalJson(document)));
}

/** The quote as JSON: integers as decimal strings. */
export interface QuoteResponse {
  quote: {
    provider: Address;
    publisher: Address;
    specHash: Hex;
    resources: { cpuMillis: number; memoryMiB: number; storageMiB: number };
    pricePerSecond: string;
    validUntil: number;
    attestationHash: Hex;
    nonce: string;
  };
  signature: Hex;
  attestation: AttestationDocument;
  chainId: number;
  market: Address;
}

/** Turns a quote response into the struct `createLease` takes. */
export function quoteFromResponse(response: QuoteResponse): Quote {
  const q = response.quote;
  return {
    provider: q.provider,
    publisher: q.publisher,
    specHash: q.specHash,
    resources: q.resources,
    pricePerSecond: BigInt(q.pricePerSecond),
    validUntil: q.validUntil,
    attestationHash: q.attestationHash,
    nonce: BigInt(q.nonce),
  };
}

const blobKey = z.string().refine(isContentId, "must be a content id (CIDv1, raw, sha2-256)");

/**
 * PUT /v1/leases/:id/manifest: the manifest whose hash is the lease's specHash, plus what only this provider needs
 * and what is not part of the spec (so the same spec can go to any provider): content keys wrapped to this
 * provider's X25519 key, and where to fetch blobs it does not have yet.
 */
export const manifestUploadSchema = z.strictObject({
  manifest: z.unknown(),
  /** content id → content key wrapped to the provider (base64url of {@link wrapKey}'s output). */
  keys: z.record(blobKey, z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, "must be base64url")).default({}),
  /** content id → URLs serving the encrypted blob (another provider's /v1/blobs/<id>, an IPFS gateway). */
  sources: z.record(blobKey, z.array(z.url({ protocol: /^https?$/ }).max(2048)).max(8)).default({}),
});
export type ManifestUpload = z.output<typeof manifestUploadSchema>;

/** Validation issues of any provider API body, in the same `path: message` form as manifest errors. */
export function bodyIssues(error: z.ZodError): ManifestIssue[] {
  return error.issues.map((i) => ({ path: formatPath(i.path, "body"), message: i.message }));
}

// ---------------------------------------------------------------- response bodies of the lease routes

/** Where the provider is with a pod. */
export type PodPhase =
  | { phase: "waiting-manifest" }
  | { phase: "provisioning"; since: number }
  | { phase: "running"; since: number }
  /** Scale-to-zero: the containers are stopped (kept) since `since` (unix seconds); the next request wakes them. */
  | { phase: "asleep"; since: number }
  | { phase: "failed"; reason: string; at: number }
  | { phase: "stopped"; reason?: string };

/** An entry of a pod's event log (unix seconds). */
export interface PodEvent {
  at: number;
  type: string;
  message: string;
}

/** GET /v1/leases/:id. Integers that may exceed 2^53 are decimal strings. */
export interface PodStatusResponse {
  leaseId: string;
  publisher: Address;
  /** The lease's spec on chain. */
  specHash: Hex;
  status: "active" | "closed";
  /** Unix seconds when the escrow runs dry, as the provider last computed it. */
  runsOutAt: number | null;
  pod: PodPhase;
  /** Spec of the manifest the provider runs or will run (null before one arrived). */
  manifestSpecHash: Hex | null;
  containers: { name: string; replica: number; specHash: Hex; state: string; image: string }[];
  /** HTTP routes through the provider's ingress. */
  http: { host: string; url: string }[];
  /** Host ports of TCP exposes. */
  tcp: { container: string; port: number; replica: number; hostPort: number }[];
  /** The most recent events. */
  events: PodEvent[];
}

/** One container's resource use, from a Docker stats sample taken by the provider (the worker's runtime/stats.ts). */
export interface ContainerUsage {
  name: string;
  replica: number;
  /** CPU time since the container started, in nanoseconds. */
  cpuNanos: bigint;
  /** CPU use over about a second; 100 is one full core. */
  cpuPercent: number;
  /** Memory in use, page cache that can be reclaimed (inactive files) excluded. */
  memoryBytes: number;
  memoryLimitBytes: number;
  rxBytes: number;
  txBytes: number;
  pids: number;
}

/** {@link ContainerUsage} as JSON: `cpuNanos` (which may exceed 2^53) as a decimal string. */
export type ContainerUsageJson = Omit<ContainerUsage, "cpuNanos"> & { cpuNanos: string };

/** GET /v1/leases/:id/usage. */
export interface PodUsageResponse {
  leaseId: string;
  containers: ContainerUsageJson[];
}

/** GET /v1/leases/:id/events. */
export interface PodEventsResponse {
  events: PodEvent[];
}

/** One line of GET /v1/leases/:id/logs (NDJSON). */
export interface PodLogLine {
  stream: "stdout" | "stderr";
  text: string;
}
