import { readFileSync } from "node:fs";
import type { RuntimeInfo } from "./docker-runtime.js";

/**
 * What of the pod sandbox this machine really enforces, from the engine's own report (`docker info`) and the
 * worker's checks at start. /health, the attestation document and the start-up log all show it, so a provider whose
 * machine cannot do something (no root, no quota-capable file system) says so instead of pretending.
 */
export interface SandboxStatus {
  /** Pods run in a user namespace (dockerd `userns-remap`): root in a pod is not root on the host. */
  userns: boolean;
  /** The engine's seccomp profile, or null when the engine applies none. */
  seccomp: string | null;
  /** The engine's AppArmor profile, or null. */
  apparmor: string | null;
  /** A pod's root file system is capped at its storageMiB (`--storage-opt size=`). */
  rootfsQuota: boolean;
  /** Volumes are capped at their sizeMiB. */
  volumeQuota: boolean;
  /** The worker's iptables rules keep pods off the host, private ranges, link-local and other pods. */
  egressFirewall: boolean;
  /** Pods may reach the public internet (`podEgress: public`). */
  publicEgress: boolean;
  /** Every part above that is not enforced, in words; empty when all are. */
  notEnforced: string[];
}

/** The sandbox status from the engine's info and what the worker found it can set up. */
export function sandboxStatus(
  info: RuntimeInfo,
  found: { firewall: boolean; volumeQuota: boolean; publicEgress: boolean },
): SandboxStatus {
  const rootfsQuota = rootfsQuotaDriver(info) !== undefined;
  const status: Omit<SandboxStatus, "notEnforced"> = {
    userns: info.security.userns || info.security.rootless,
    seccomp: info.security.seccomp,
    apparmor: info.security.apparmor,
    rootfsQuota,
    volumeQuota: found.volumeQuota,
    egressFirewall: found.firewall,
    publicEgress: found.publicEgress,
  };
  const notEnforced: string[] = [];
  if (!status.userns) notEnforced.push("user namespaces: root in a pod is root on the host (dockerd userns-remap off)");
  if (!rootfsQuota) {
    notEnforced.push(`root file system quotas: storage driver ${info.storageDriver} cannot cap storageMiB`);
  }
  if (!status.volumeQuota) notEnforced.push("volume quotas: volumes can grow past sizeMiB (needs a btrfs data-root)");
  if (!status.egressFirewall) {
    notEnforced.push(
      "egress firewall: pods can reach the host, private ranges and link-local (needs root and iptables)",
    );
  }
  return { ...status, notEnforced };
}

/** The storage driver whose `--storage-opt size=` caps a root file system, or undefined when none does here. */
export function rootfsQuotaDriver(info: RuntimeInfo): "btrfs" | "overlay2" | undefined {
  if (info.storageDriver === "btrfs") return "btrfs";
  // overlay2 caps only on XFS mounted with pquota; Docker refuses a create with a size on anything else.
  if (info.storageDriver === "overlay2" && info.backingFilesystem === "xfs") return "overlay2";
  return undefined;
}

/** Below this kernel.keys.maxkeys a user-namespaced host runs out of keys before it runs out of much else. */
export const KEYRING_MIN_MAXKEYS = 1000;

/**
 * The warning for a host whose kernel key quota caps its pods. In a user namespace each container's init takes a
 * session keyring key of the remapped user, and the kernel allows a non-root user kernel.keys.maxkeys keys (200 by
 * default): past that runc refuses every start with "unable to create session key: disk quota exceeded" (seen at
 * about 200 pods in `npm run bench:worker -- --pods 200`). Undefined when nothing caps it.
 */
export function keyringWarning(userns: boolean, maxkeys: number | undefined): string | undefined {
  if (!userns || maxkeys === undefined || maxkeys >= KEYRING_MIN_MAXKEYS) return undefined;
  return (
    `kernel.keys.maxkeys is ${maxkeys}: with user namespaces each container takes a key of the remapped user, so ` +
    `this host starts at most about ${maxkeys} containers; raise it (sysctl -w kernel.keys.maxkeys=20000 ` +
    "kernel.keys.maxbytes=2000000)"
  );
}

/** kernel.keys.maxkeys, or undefined where /proc does not say. */
export function kernelMaxKeys(file = "/proc/sys/kernel/keys/maxkeys"): number | undefined {
  try {
    const value = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
