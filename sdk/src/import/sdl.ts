/**
 * Akash SDL (version 2.0) to pod.yaml: every service becomes a container of one pod, its compute profile its
 * resources, `expose` to the world HTTP (port 80) or TCP, persistent storage persistent volumes, and the deployment
 * count the app's instances. What a pod cannot do is an error or a warning naming its line (docs/import.md).
 */
import type { Node, YAMLMap } from "yaml";
import { InvalidParameterError } from "../errors.js";
import { commandList } from "./compose.js";
import {
  cpuMillis,
  finishImport,
  type ImportOptions,
  type ImportPlaceholder,
  type ImportResult,
  isMap,
  isSeq,
  keyNode,
  podImage,
  podName,
  Source,
  sizeMiB,
  unknownKeys,
} from "./shared.js";

/** Size of a persistent storage volume the profile does not size (it always does in valid SDL). */
const DEFAULT_STORAGE_MIB = 1024;

/** Akash pricing, summed over the pod's services: what one instance may cost per block, in `denom`. */
export interface SdlPriceCap {
  denom: string;
  /** Per block, as the SDL writes it (decimal string: Akash amounts may have fractions of a uakt). */
  amountPerBlock: string;
  line: number;
}

export type SdlImportResult = ImportResult & {
  priceCap?: SdlPriceCap;
  /** The price cap in token base units per second, when `priceRate` was given (also app.yaml's `price.maxPerInstance`). */
  maxPricePerSecond?: bigint;
};

export type SdlImportOptions = ImportOptions & {
  /** Converts the SDL's price cap ({@link sdlPricePerSecond}); without it the cap is returned as written. */
  priceRate?: SdlPriceRate;
};

/** Akash's block time the SDL's per-block prices are paid at, about 6 s; a rate may name another. */
export const AKASH_BLOCK_SECONDS = "6";

/** What converts an SDL price into Podnet's unit: decimal texts, so nothing passes through a float. */
export interface SdlPriceRate {
  /** Token base units one unit of the SDL's denom is worth (e.g. "3.25" base units per uakt). */
  baseUnitsPerDenom: string;
  /** Seconds per block; default {@link AKASH_BLOCK_SECONDS}. */
  blockSeconds?: string;
}

/**
 * An SDL price cap (per block, in its denom) as a Podnet price cap: token base units per second, exact, rounded down
 * so the cap never exceeds what the SDL allowed. For `podnet deploy --max-price` or app.yaml `price.maxPerInstance`.
 *
 * @throws {InvalidParameterError} a rate that is not a positive decimal, or a cap that rounds to 0 base units/s.
 * @example
 * sdlPricePerSecond({ denom: "uakt", amountPerBlock: "1000", line: 1 }, { baseUnitsPerDenom: "3", blockSeconds: "6" }); // 500n
 */
export function sdlPricePerSecond(cap: Pick<SdlPriceCap, "amountPerBlock">, rate: SdlPriceRate): bigint {
  const amount = decimalFraction(cap.amountPerBlock, "amountPerBlock");
  const worth = decimalFraction(rate.baseUnitsPerDenom, "baseUnitsPerDenom");
  const block = decimalFraction(rate.blockSeconds ?? AKASH_BLOCK_SECONDS, "blockSeconds");
  if (worth.numerator === 0n) throw new InvalidParameterError("baseUnitsPerDenom", "must be above 0");
  if (block.numerator === 0n) throw new InvalidParameterError("blockSeconds", "must be above 0");
  // (a / A) × (w / W) ÷ (b / B) = a·w·B / (A·W·b), one integer division at the end.
  const perSecond =
    (amount.numerator * worth.numerator * block.denominator) /
    (amount.denominator * worth.denominator * block.numerator);
  if (perSecond === 0n) {
    throw new InvalidParameterError(
      "baseUnitsPerDenom",
      `${cap.amountPerBlock} per block at this rate is below 1 token base unit per second`,
    );
  }
  return perSecond;
}

/** "12.5" → 125/10: a non-negative decimal text as an exact fraction. */
function decimalFraction(text: string, name: string): { numerator: bigint; denominator: bigint } {
  if (!/^\d{1,30}(\.\d{1,30})?$/.test(text)) throw new InvalidParameterError(name, `"${text}" is not a decimal number`);
  const [whole, fraction = ""] = text.split(".");
  return { numerator: BigInt(`${whole}${fraction}`), denominator: 10n ** BigInt(fraction.length) };
}

const SERVICE_DROPPED: Record<string, string> = {
  dependencies: "the containers of a pod start together",
  depends_on: "the containers of a pod start together",
  credentials: "registry credentials are not passed to providers: use a public image or an encrypted blob",
};

/**
 * Converts an Akash SDL into a pod manifest, and an app.yaml when a deployment's `count` is above one.
 *
 * @throws {ImportError} listing every key that cannot be carried over, each with file, line and column.
 * @example
 * const { podYaml, appYaml, priceCap, warnings } = importSdl(readFileSync("deploy.yaml", "utf8"), { file: "deploy.yaml" });
 */
export function importSdl(text: string, options: SdlImportOptions = {}): SdlImportResult {
  const file = options.file ?? "deploy.yaml";
  const src = new Source(text, file);
  const root = src.root;
  const version = String(src.plain(src.child(root, "version")));
  if (!["2.0", "2.1"].includes(version))
    src.error(keyNode(root, "version") ?? root, "version", `must be "2.0" (got ${version})`);
  for (const e of src.entries(root)) {
    if (!["version", "services", "profiles", "deployment", "endpoints"].includes(e.key))
      src.warn(e.keyNode, e.key, "not supported: dropped");
    if (e.key === "endpoints")
      src.warn(e.keyNode, e.key, "dropped: pods have no leased IPs; TCP exposes get a provider port");
  }
  const services = src.child(root, "services");
  const profiles = src.child(root, "profiles");
  const compute = isMap(profiles) ? src.child(profiles, "compute") : undefined;
  const placementProfiles = isMap(profiles) ? src.child(profiles, "placement") : undefined;
  const deployment = src.child(root, "deployment");
  if (!isMap(services) || services.items.length === 0)
    src.error(keyNode(root, "services") ?? root, "services", "must be a map of at least one service");
  if (!isMap(compute)) src.error(root, "profiles.compute", "missing: each service needs a compute profile");
  if (!isMap(deployment)) src.error(root, "deployment", "missing: says which profiles each service runs with");
  src.fail();

  const containers: Record<string, unknown>[] = [];
  const volumes: Record<string, unknown>[] = [];
  const http: { container: string; port: number; host?: string }[] = [];
  const tcp: { container: string; port: number }[] = [];
  const placeholders: ImportPlaceholder[] = [];
  const nodes: Node[] = [];
  const counts: { count: number; node: Node; path: string }[] = [];
  const prices: { denom: string; amount: string; node: Node; path: string }[] = [];
  const placementsWarned = new Set<string>();

  for (const { key: serviceName, keyNode: nameNode, value: service } of src.entries(services as YAMLMap)) {
    const at = `services.${serviceName}`;
    const name = podName(serviceName);
    if (!name) src.error(nameNode, at, "the name must become a DNS label (letters, digits, '-', at most 32)");
    else if (name !== serviceName) src.warn(nameNode, at, `the container is named ${name}`);
    if (!isMap(service)) {
      src.error(nameNode, at, "must be a map");
      continue;
    }
    const container = name ?? "invalid";
    nodes.push(nameNode);
    const c: Record<string, unknown> = { name: container };
    const storageMounts = new Map<string, { mount: string; readOnly: boolean; node: Node }>();

    for (const { key, keyNode: k, value: v } of src.entries(service)) {
      const path = `${at}.${key}`;
      if (key === "image") {
        const { image, placeholder } = podImage(src, v as Node, path, String(src.plain(v)), container);
        c.image = image;
        if (placeholder) placeholders.push({ ...placeholder, path: `containers[${containers.length}].image` });
      } else if (key === "command" || key === "args") {
        const list = commandList(src.plain(v));
        if (!list) src.error(k, path, "must be a list of strings");
        else c[key] = list;
      } else if (key === "env") {
        const env: Record<string, string> = {};
        if (!isSeq(v)) src.error(k, path, "must be a list of NAME=value");
        for (const item of src.items(v)) {
          const text = String(src.plain(item));
          const eq = text.indexOf("=");
          if (eq < 0) src.warn(item, path, `${text}: dropped: not NAME=value`);
          else env[text.slice(0, eq)] = text.slice(eq + 1);
        }
        c.env = env;
      } else if (key === "expose") {
        exposes(src, v, path, container, http, tcp);
      } else if (key === "params") {
        const storage = isMap(v) ? src.child(v, "storage") : undefined;
        for (const e of isMap(storage) ? src.entries(storage) : []) {
          const p = src.plain(e.value) as { mount?: string; readOnly?: boolean };
          storageMounts.set(e.key, { mount: String(p?.mount), readOnly: p?.readOnly === true, node: e.keyNode });
        }
        for (const e of isMap(v) ? src.entries(v) : []) {
          if (e.key !== "storage") src.warn(e.keyNode, `${path}.${e.key}`, "not supported: dropped");
        }
      } else if (key in SERVICE_DROPPED) {
        src.warn(k, path, `dropped: ${SERVICE_DROPPED[key]}`);
      } else {
        src.warn(k, path, "not supported: dropped");
      }
    }
    if (c.image === undefined) src.error(nameNode, `${at}.image`, "missing");

    // The deployment says which compute profile, where, and how many.
    const placements = isMap(deployment) ? src.child(deployment, serviceName) : undefined;
    const placed = isMap(placements) ? src.entries(placements) : [];
    if (placed.length === 0) {
      src.error(nameNode, `deployment.${serviceName}`, "missing: the service is not deployed");
      continue;
    }
    if (placed.length > 1) {
      src.warn(
        placed[1]?.keyNode,
        `deployment.${serviceName}`,
        "only the first placement is imported: a pod runs on one provider",
      );
    }
    const first = placed[0] as (typeof placed)[number];
    const d = src.plain(first.value) as { profile?: string; count?: number };
    counts.push({
      count: Number(d?.count ?? 1),
      node: first.keyNode,
      path: `deployment.${serviceName}.${first.key}.count`,
    });
    const profile = isMap(compute) ? src.child(compute, String(d?.profile)) : undefined;
    if (!isMap(profile)) {
      src.error(
        first.keyNode,
        `deployment.${serviceName}.${first.key}.profile`,
        `no compute profile ${String(d?.profile)}`,
      );
      continue;
    }
    c.resources = resources(src, profile, `profiles.compute.${d.profile}`, container, storageMounts, volumes, c);
    const pricing = isMap(placementProfiles) ? src.child(placementProfiles, first.key) : undefined;
    const price = isMap(pricing) ? src.child(pricing, "pricing") : undefined;
    const own = isMap(price) ? src.child(price, String(d.profile)) : undefined;
    if (isMap(own)) {
      const p = src.plain(own) as { denom?: string; amount?: unknown };
      const path = `profiles.placement.${first.key}.pricing.${d.profile}`;
      prices.push({ denom: String(p.denom), amount: String(p.amount), node: own, path });
    }
    if (isMap(pricing) && !placementsWarned.has(first.key)) {
      placementsWarned.add(first.key);
      for (const e of src.entries(pricing)) {
        if (e.key === "attributes" || e.key === "signedBy") {
          src.warn(
            e.keyNode,
            `profiles.placement.${first.key}.${e.key}`,
            "dropped: choose providers with podnet providers or app.yaml placement",
          );
        }
      }
    }
    containers.push(c);
  }
  src.fail();

  const count = Math.max(...counts.map((c) => c.count));
  const counted = counts.find((c) => c.count === count);
  const countNode = counted?.node;
  if (counts.some((c) => c.count !== count)) {
    src.warn(
      countNode,
      "deployment",
      `services have different counts: every instance runs all services, ${count} instances`,
    );
  }
  const priceCap = priceCapOf(src, prices, options.priceRate !== undefined);
  // A rate the caller gave that does not fit is the caller's error (InvalidParameterError), not the file's.
  const maxPricePerSecond = priceCap && options.priceRate ? sdlPricePerSecond(priceCap, options.priceRate) : undefined;
  const pod = { version: 1, containers, volumes, expose: { http, tcp } };
  const result = finishImport(
    src,
    pod,
    count > 1
      ? {
          count,
          node: countNode,
          path: counted?.path ?? "deployment",
          ...(maxPricePerSecond !== undefined ? { maxPerInstance: maxPricePerSecond.toString() } : {}),
        }
      : undefined,
    placeholders,
    nodes,
  );
  return {
    ...result,
    ...(priceCap ? { priceCap } : {}),
    ...(maxPricePerSecond !== undefined ? { maxPricePerSecond } : {}),
  };
}

function exposes(
  src: Source,
  node: Node | null,
  path: string,
  container: string,
  http: { container: string; port: number; host?: string }[],
  tcp: { container: string; port: number }[],
): void {
  for (const item of src.items(node)) {
    const e = src.plain(item) as {
      port?: number;
      as?: number;
      proto?: string;
      to?: { global?: boolean; service?: string }[];
      accept?: string[];
      http_options?: unknown;
    };
    if (e && typeof e === "object")
      unknownKeys(src, item, path, e, ["port", "as", "proto", "to", "accept", "http_options"]);
    for (const to of e?.to ?? []) {
      if (to && typeof to === "object" && "ip" in to)
        src.warn(item, `${path}.to.ip`, "dropped: pods have no leased IPs");
    }
    const port = Number(e?.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      src.error(item, path, "port: must be a port number");
      continue;
    }
    const global = (e.to ?? []).some((t) => t.global === true);
    if (!global) continue; // to: service only: the containers of a pod reach each other anyway
    const proto = (e.proto ?? "tcp").toLowerCase();
    if (proto === "udp") {
      src.error(item, path, `${port}/udp: pods expose TCP and HTTP only`);
      continue;
    }
    const as = e.as ?? port;
    // Akash serves a global expose as 80 through its HTTP ingress; everything else is a TCP port.
    if (as === 80 || proto === "http") {
      const host = e.accept?.[0];
      if ((e.accept?.length ?? 0) > 1) src.warn(item, path, `accept: only ${host} is kept: a pod expose has one host`);
      if (e.http_options !== undefined) src.warn(item, path, "http_options dropped: the provider's ingress sets them");
      http.push({ container, port, ...(host ? { host } : {}) });
    } else {
      if (as !== port) src.warn(item, path, `as: ${as} dropped: the provider allocates the public port`);
      tcp.push({ container, port });
    }
  }
}

function resources(
  src: Source,
  profile: YAMLMap,
  path: string,
  container: string,
  storageMounts: Map<string, { mount: string; readOnly: boolean; node: Node }>,
  volumes: Record<string, unknown>[],
  c: Record<string, unknown>,
): Record<string, number> {
  type Storage = { name?: string; size?: unknown; attributes?: { persistent?: boolean; class?: string } };
  const r = src.plain(src.child(profile, "resources")) as {
    cpu?: { units?: unknown };
    memory?: { size?: unknown };
    storage?: Storage[] | Storage;
    gpu?: { units?: unknown };
  } | null;
  const at = keyNode(profile, "resources") ?? profile;
  const cpu = cpuMillis(r?.cpu?.units);
  const memory = sizeMiB(r?.memory?.size, true);
  if (cpu === undefined) src.error(at, `${path}.resources.cpu.units`, `cannot read ${String(r?.cpu?.units)}`);
  if (memory === undefined) src.error(at, `${path}.resources.memory.size`, `cannot read ${String(r?.memory?.size)}`);
  if (r?.gpu && Number(r.gpu.units ?? 0) > 0) src.error(at, `${path}.resources.gpu`, "pods get no GPUs");
  let storageMiB = 0;
  const mounts: Record<string, unknown>[] = [];
  const storage = Array.isArray(r?.storage) ? r.storage : r?.storage ? [r.storage] : [];
  for (const s of storage) {
    const size = sizeMiB(s.size, true);
    if (size === undefined) {
      src.error(at, `${path}.resources.storage`, `cannot read ${String(s.size)}`);
      continue;
    }
    if (!s.name || s.name === "default") {
      storageMiB += size;
      continue;
    }
    const mount = storageMounts.get(s.name);
    if (!mount) {
      src.warn(at, `${path}.resources.storage.${s.name}`, "dropped: no service params.storage mounts it");
      continue;
    }
    const name = podName(`${container}-${s.name}`);
    if (!name) {
      src.error(mount.node, `params.storage.${s.name}`, "the name must become a DNS label");
      continue;
    }
    const ram = s.attributes?.class === "ram";
    const persistent = s.attributes?.persistent === true && !ram;
    if (!persistent && !ram) src.warn(mount.node, `params.storage.${s.name}`, "not persistent: an empty volume");
    volumes.push({ type: persistent ? "persistent" : "empty", name, sizeMiB: size || DEFAULT_STORAGE_MIB });
    mounts.push({ volume: name, path: mount.mount, ...(mount.readOnly ? { readOnly: true } : {}) });
  }
  if (mounts.length > 0) c.mounts = mounts;
  return { cpuMillis: cpu ?? 1, memoryMiB: memory ?? 6, storageMiB };
}

/** The sum of the services' prices per block, when they share one denomination. */
function priceCapOf(
  src: Source,
  prices: { denom: string; amount: string; node: Node; path: string }[],
  converted: boolean,
): SdlPriceCap | undefined {
  if (prices.length === 0) return undefined;
  const denom = prices[0]?.denom as string;
  if (prices.some((p) => p.denom !== denom)) {
    src.warn(prices[1]?.node, prices[1]?.path ?? "pricing", "services priced in different denominations: no price cap");
    return undefined;
  }
  // Decimal sum without floats: scale every amount to the longest fraction.
  const digits = Math.max(...prices.map((p) => (p.amount.split(".")[1] ?? "").length));
  let total = 0n;
  for (const p of prices) {
    if (!/^\d+(\.\d+)?$/.test(p.amount)) {
      src.warn(p.node, p.path, `amount ${p.amount}: not a number, no price cap`);
      return undefined;
    }
    const [whole, fraction = ""] = p.amount.split(".");
    total += BigInt(`${whole}${fraction.padEnd(digits, "0")}`);
  }
  const text = total.toString().padStart(digits + 1, "0");
  const amountPerBlock = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  const line = src.at(prices[0]?.node).line;
  if (converted) return { denom, amountPerBlock, line };
  src.warn(
    prices[0]?.node,
    prices[0]?.path ?? "pricing",
    `price cap ${amountPerBlock} ${denom} per block: Podnet prices are token base units per second; give an exchange rate (podnet import sdl --rate) to convert it, or set the cap with podnet deploy --max-price or app.yaml price.maxPerInstance`,
  );
  return { denom, amountPerBlock, line };
}
