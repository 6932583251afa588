/**
 * docker-compose.yml (the Compose Specification) to pod.yaml: every service becomes a container of one pod, and
 * whatever a pod cannot do is an error (refused) or a warning (dropped, with the reason) naming its line. The table of
 * which key is which is in docs/import.md.
 */
import { dirname, join } from "node:path";
import type { Node, YAMLMap } from "yaml";
import {
  cpuMillis,
  finishImport,
  type ImportOptions,
  type ImportPlaceholder,
  type ImportResult,
  isMap,
  isSeq,
  keyNode,
  PLACEHOLDER_SECRET_BLOB,
  podImage,
  podName,
  Source,
  sizeMiB,
  unknownKeys,
} from "./shared.js";

/** What a container gets when the service sets no limit: a quarter core, 256 MiB. */
export const DEFAULT_CPU_MILLIS = 250;
export const DEFAULT_MEMORY_MIB = 256;
/** Size of a named volume (Compose has none) and of a tmpfs without `size`. */
export const DEFAULT_VOLUME_MIB = 1024;
export const DEFAULT_TMPFS_MIB = 64;
/** Container ports served as HTTP through the ingress when the source does not say (`app_protocol: http` does). */
export const HTTP_PORTS = new Set([80, 3000, 5000, 8000, 8080, 8888]);

/** Service keys a pod cannot honour at all: the import stops. */
const REFUSED: Record<string, string> = {
  build: "pods run images, they do not build them: build it, then reference the image (podnet image add)",
  privileged: "pods never run privileged",
  cap_add: "pods run with every capability dropped",
  devices: "pods get no host devices",
  device_cgroup_rules: "pods get no host devices",
  sysctls: "pods cannot set kernel parameters",
  security_opt: "pods run with the provider's fixed security options",
  userns_mode: "the provider chooses the user namespace",
  cgroup_parent: "the provider chooses the cgroup",
  configs: "configs are host files; make them secrets or bake them into the image",
  volumes_from: "pods share volumes through named volumes only",
  gpus: "pods get no GPUs",
};
/** Service keys dropped with a warning: the app may run without them. */
const DROPPED: Record<string, string> = {
  container_name: "containers are named after the service",
  restart: "pods always restart unless stopped",
  depends_on: "the containers of a pod start together; make the app retry its connections",
  healthcheck: "pod health is checked by the autoscaler (app.yaml health), not by the container",
  labels: "pods carry no labels",
  logging: "the provider keeps bounded logs (podnet logs)",
  networks: "the containers of a pod share one network and reach each other by service name",
  hostname: "a container's host name is its service name",
  domainname: "a container's host name is its service name",
  links: "the containers of a pod reach each other by service name",
  external_links: "pods reach no containers outside themselves",
  extra_hosts: "pods cannot add /etc/hosts entries",
  dns: "the provider's DNS is used",
  dns_search: "the provider's DNS is used",
  dns_opt: "the provider's DNS is used",
  user: "pods run as the image's USER",
  group_add: "pods run as the image's USER",
  working_dir: "pods start in the image's WORKDIR",
  stop_signal: "pods are stopped with SIGTERM",
  stop_grace_period: "pods are stopped with SIGTERM, then SIGKILL",
  init: "pods run the image's entrypoint as PID 1",
  tty: "pods have no terminal",
  stdin_open: "pods have no standard input",
  platform: "the provider runs its own platform",
  pull_policy: "providers pull pinned images once",
  profiles: "every service is imported",
  cap_drop: "pods run with every capability dropped already",
  oom_score_adj: "the provider sets OOM behaviour",
  shm_size: "pods get the default /dev/shm",
  mac_address: "pods get provider-assigned addresses",
  runtime: "the provider chooses the runtime",
  scale: "use deploy.replicas",
  mem_reservation: "pods get their limit, nothing else",
  mem_swappiness: "pods run without swap",
  memswap_limit: "pods run without swap",
  cpu_shares: "use deploy.resources.limits.cpus",
  cpuset: "the provider places CPUs",
  storage_opt: "use deploy.resources",
  expose: "", // handled: the containers of a pod reach every port of each other
};
/** Host namespace settings: refused with `host`, other values dropped. */
const HOST_MODES = ["network_mode", "pid", "ipc", "uts"] as const;

interface Mount {
  volume: string;
  path: string;
  readOnly?: boolean;
}

/**
 * Converts a docker-compose.yml into a pod manifest (and an app.yaml when `deploy.replicas` asks for more than one
 * instance).
 *
 * @throws {ImportError} listing every key that cannot be carried over, each with file, line and column.
 * @example
 * const { podYaml, appYaml, warnings } = importCompose(readFileSync("compose.yaml", "utf8"), {
 *   file: "compose.yaml",
 *   readFile: (path) => readFileSync(path, "utf8"),
 * });
 */
export function importCompose(text: string, options: ImportOptions = {}): ImportResult {
  const file = options.file ?? "docker-compose.yml";
  const src = new Source(text, file);
  const root = src.root;
  for (const { key, keyNode: k } of src.entries(root)) {
    if (["services", "volumes", "secrets", "version", "name"].includes(key) || key.startsWith("x-")) continue;
    if (key === "networks") src.warn(k, key, "dropped: the containers of a pod share one network");
    else if (key === "include")
      src.error(k, key, "not supported: merge the included files into one first (docker compose config)");
    else if (key === "configs")
      continue; // reported where a service uses one
    else src.warn(k, key, "not supported: dropped");
  }
  const services = src.child(root, "services");
  if (!isMap(services) || services.items.length === 0) {
    src.error(keyNode(root, "services") ?? root, "services", "must be a map of at least one service");
    src.fail();
  }
  const topVolumes = src.child(root, "volumes");
  const topSecrets = src.child(root, "secrets");
  const containers: Record<string, unknown>[] = [];
  const volumes = new Map<string, Record<string, unknown>>();
  const http: { container: string; port: number }[] = [];
  const tcp: { container: string; port: number }[] = [];
  const placeholders: ImportPlaceholder[] = [];
  const serviceNodes: Node[] = [];
  let replicas: { count: number; node: Node; path: string } | undefined;

  for (const { key: serviceName, keyNode: nameNode, value } of src.entries(services as YAMLMap)) {
    const at = `services.${serviceName}`;
    const name = podName(serviceName);
    if (!name) src.error(nameNode, at, "the name must become a DNS label (letters, digits, '-', at most 32)");
    else if (name !== serviceName) src.warn(nameNode, at, `the container is named ${name}`);
    if (!isMap(value)) {
      src.error(nameNode, at, "must be a map");
      continue;
    }
    const service = value;
    const container = name ?? "invalid";
    serviceNodes.push(nameNode);
    const mounts: Mount[] = [];
    const c: Record<string, unknown> = { name: container };
    const env: Record<string, string> = {};
    let limits: { cpu?: number; memory?: number; pids?: number } = {};

    for (const { key, keyNode: k, value: v } of src.entries(service)) {
      const path = `${at}.${key}`;
      if (key in REFUSED) {
        if (key === "privileged" && src.plain(v) === false) continue;
        src.error(k, path, `not supported: ${REFUSED[key]}`);
      } else if ((HOST_MODES as readonly string[]).includes(key)) {
        const mode = String(src.plain(v));
        if (mode === "host") src.error(k, path, "host namespaces are not available to pods");
        else src.warn(k, path, `dropped (${mode}): the containers of a pod share one network and private namespaces`);
      } else if (key in DROPPED) {
        if (DROPPED[key]) src.warn(k, path, `dropped: ${DROPPED[key]}`);
      } else if (key === "image") {
        const { image, placeholder } = podImage(src, v as Node, path, String(src.plain(v)), container);
        c.image = image;
        if (placeholder) placeholders.push({ ...placeholder, path: `containers[${containers.length}].image` });
      } else if (key === "command" || key === "entrypoint") {
        const list = commandList(src.plain(v));
        if (!list) src.error(k, path, "must be a string or a list of strings");
        else c[key === "entrypoint" ? "command" : "args"] = list;
      } else if (key === "environment") {
        Object.assign(env, environment(src, v, path));
      } else if (key === "env_file") {
        // environment wins over env_file, whichever key comes first.
        for (const [n, val] of Object.entries(envFiles(src, v, path, options))) if (!(n in env)) env[n] = val;
      } else if (key === "ports") {
        for (const p of ports(src, v, path)) (p.http ? http : tcp).push({ container, port: p.port });
      } else if (key === "volumes") {
        mounts.push(...serviceVolumes(src, v, path, volumes, topVolumes));
      } else if (key === "tmpfs") {
        const paths = isSeq(v) ? src.items(v).map((i) => src.plain(i)) : [src.plain(v)];
        for (const p of paths) {
          // `/run:size=64m,mode=1777`: the size is kept, the other options have no pod equivalent.
          const [target, opts = ""] = String(p).split(":");
          const size = /(?:^|,)size=([^,]+)/.exec(opts)?.[1];
          mounts.push(tmpfs(volumes, target as string, (size && sizeMiB(size)) || DEFAULT_TMPFS_MIB));
        }
      } else if (key === "secrets") {
        mounts.push(...serviceSecrets(src, v, path, container, volumes, topSecrets, placeholders));
      } else if (key === "deploy") {
        const d = deploy(src, v, path);
        limits = { ...limits, ...d.limits };
        if (d.replicas) replicas = { ...d.replicas, path: `${path}.replicas` };
      } else if (key === "cpus" || key === "mem_limit" || key === "pids_limit") {
        const value = src.plain(v);
        const parsed = key === "cpus" ? cpuMillis(value) : key === "mem_limit" ? sizeMiB(value) : Number(value);
        if (parsed === undefined || !Number.isInteger(parsed) || parsed < 1)
          src.error(k, path, `cannot read ${String(value)}`);
        else if (key === "cpus") limits.cpu ??= parsed;
        else if (key === "mem_limit") limits.memory ??= parsed;
        else limits.pids = parsed;
      } else if (key === "read_only") {
        if (src.plain(v) === true) c.readOnlyRootfs = true;
      } else if (key === "ulimits") {
        if (!isMap(v)) src.error(k, path, "must be a map");
        for (const u of isMap(v) ? src.entries(v) : []) {
          const limit = src.plain(u.value) as number | { soft?: number; hard?: number };
          if (u.key === "nofile")
            c.ulimits = { nofile: typeof limit === "object" ? (limit.hard ?? limit.soft) : limit };
          else src.warn(u.keyNode, `${path}.${u.key}`, "dropped: pods set only the open-file limit");
        }
      } else if (key.startsWith("x-")) {
        // extension fields are for the file's own anchors
      } else {
        src.warn(k, path, "not supported: dropped");
      }
    }
    if (c.image === undefined && !src.child(service, "build"))
      src.error(nameNode, `${at}.image`, "missing: a service needs an image");
    c.env = env;
    c.resources = {
      cpuMillis: limits.cpu ?? DEFAULT_CPU_MILLIS,
      memoryMiB: limits.memory ?? DEFAULT_MEMORY_MIB,
      ...(limits.pids ? { pids: limits.pids } : {}),
    };
    if (mounts.length > 0) c.mounts = mounts;
    containers.push(c);
  }
  src.fail();

  const pod: Record<string, unknown> = {
    version: 1,
    containers,
    volumes: [...volumes.values()],
    expose: { http, tcp },
  };
  const target = replicas?.count ?? 1;
  return finishImport(
    src,
    pod,
    replicas && target > 1 ? { count: target, node: replicas.node, path: replicas.path } : undefined,
    placeholders,
    serviceNodes,
  );
}

/** A command as a list: Compose splits a string the way a shell would (quotes kept together). */
export function commandList(value: unknown): string[] | undefined {
  if (Array.isArray(value))
    return value.every((v) => typeof v === "string" || typeof v === "number") ? value.map(String) : undefined;
  if (typeof value !== "string") return undefined;
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of value.matchAll(re))
    words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? m[3] ?? ""));
  return words;
}

function environment(src: Source, node: Node | null, path: string): Record<string, string> {
  const env: Record<string, string> = {};
  const put = (name: string, value: unknown, at: Node | null | undefined) => {
    if (value === null || value === undefined) {
      src.warn(
        at,
        `${path}.${name}`,
        "dropped: a value taken from the host's environment has no host to come from; write the value",
      );
    } else env[name] = String(value);
  };
  if (isMap(node)) for (const e of src.entries(node)) put(e.key, src.plain(e.value), e.keyNode);
  else if (isSeq(node)) {
    for (const item of src.items(node)) {
      const text = String(src.plain(item));
      const eq = text.indexOf("=");
      put(eq < 0 ? text : text.slice(0, eq), eq < 0 ? null : text.slice(eq + 1), item);
    }
  } else src.error(node, path, "must be a map or a list of NAME=value");
  return env;
}

/** Reads `.env`-style files: `NAME=value` lines, `#` comments, optional `export ` and quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim().replace(/^export\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    let value = line.slice(eq + 1).trim();
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] as string;
    else value = value.replace(/\s+#.*$/, "");
    env[line.slice(0, eq).trim()] = value;
  }
  return env;
}

function envFiles(src: Source, node: Node | null, path: string, options: ImportOptions): Record<string, string> {
  const env: Record<string, string> = {};
  const items = isSeq(node) ? src.items(node) : [node as Node];
  for (const item of items) {
    const v = src.plain(item);
    const entry = typeof v === "string" ? { path: v, required: true } : (v as { path?: string; required?: boolean });
    if (!entry || typeof entry.path !== "string") {
      src.error(item, path, "must be a path or {path, required}");
      continue;
    }
    if (!options.readFile) {
      src.error(item, path, `${entry.path}: cannot be read (no file reader given)`);
      continue;
    }
    const full = join(dirname(options.file ?? "."), entry.path);
    try {
      Object.assign(env, parseEnvFile(options.readFile(full)));
    } catch {
      if (entry.required === false) src.warn(item, path, `${entry.path}: not found, skipped (required: false)`);
      else src.error(item, path, `${entry.path}: cannot be read`);
    }
  }
  return env;
}

/** Container ports to expose, HTTP or TCP; host ports and addresses are dropped (the provider allocates). */
function ports(src: Source, node: Node | null, path: string): { port: number; http: boolean }[] {
  const out: { port: number; http: boolean }[] = [];
  if (!isSeq(node)) {
    src.error(node, path, "must be a list");
    return out;
  }
  for (const item of src.items(node)) {
    const v = src.plain(item);
    let target: number;
    let published: string | undefined;
    let protocol = "tcp";
    let appProtocol: string | undefined;
    if (v !== null && typeof v === "object") {
      const long = v as {
        target?: unknown;
        published?: unknown;
        protocol?: string;
        app_protocol?: string;
        host_ip?: string;
      };
      unknownKeys(src, item, path, v, ["target", "published", "protocol", "app_protocol", "host_ip", "mode", "name"]);
      target = Number(long.target);
      published = long.published === undefined ? undefined : String(long.published);
      protocol = long.protocol ?? "tcp";
      appProtocol = long.app_protocol;
    } else {
      const text = String(v);
      const [spec, proto] = text.split("/");
      protocol = proto ?? "tcp";
      // [ip:][host:]container; an IPv6 ip is in brackets.
      const parts = (spec as string).replace(/^\[[^\]]*\]:/, "x:").split(":");
      target = Number(parts[parts.length - 1]);
      if (/-/.test(parts[parts.length - 1] as string)) target = Number.NaN;
      published = parts.length > 1 ? parts[parts.length - 2] : undefined;
    }
    if (!Number.isInteger(target) || target < 1 || target > 65535) {
      src.error(item, path, `${JSON.stringify(v)}: pods expose single container ports (no ranges)`);
      continue;
    }
    if (protocol !== "tcp") {
      src.error(item, path, `${target}/${protocol}: pods expose TCP and HTTP only`);
      continue;
    }
    if (published) src.warn(item, path, `host port ${published} dropped: the provider allocates the public port`);
    const http = appProtocol ? appProtocol.toLowerCase() === "http" : HTTP_PORTS.has(target);
    if (!out.some((p) => p.port === target)) out.push({ port: target, http });
  }
  return out;
}

function tmpfs(volumes: Map<string, Record<string, unknown>>, path: string, size: number): Mount {
  const base = `tmp${path.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`.slice(0, 32).replace(/-+$/, "");
  let name = base;
  for (let n = 2; volumes.has(name); n++) name = `${base.slice(0, 29)}-${n}`;
  volumes.set(name, { type: "empty", name, sizeMiB: size });
  return { volume: name, path };
}

function serviceVolumes(
  src: Source,
  node: Node | null,
  path: string,
  volumes: Map<string, Record<string, unknown>>,
  top: Node | undefined,
): Mount[] {
  const mounts: Mount[] = [];
  if (!isSeq(node)) {
    src.error(node, path, "must be a list");
    return mounts;
  }
  for (const item of src.items(node)) {
    const v = src.plain(item);
    let type: string;
    let source: string | undefined;
    let target: string;
    let readOnly = false;
    let tmpfsSize: number | undefined;
    if (v !== null && typeof v === "object") {
      const long = v as {
        type?: string;
        source?: string;
        target?: string;
        read_only?: boolean;
        tmpfs?: { size?: unknown };
      };
      unknownKeys(src, item, path, v, ["type", "source", "target", "read_only", "tmpfs", "bind"]);
      type = long.type ?? "volume";
      source = long.source;
      target = String(long.target);
      readOnly = long.read_only === true;
      if (long.tmpfs?.size !== undefined) tmpfsSize = sizeMiB(long.tmpfs.size);
    } else {
      const parts = String(v).split(":");
      if (parts.length === 1) {
        type = "volume";
        target = parts[0] as string;
      } else {
        source = parts[0];
        target = parts[1] as string;
        readOnly = (parts[2] ?? "").split(",").includes("ro");
        type = /^[./~]/.test(source as string) ? "bind" : "volume";
      }
    }
    if (type === "bind" || type === "npipe") {
      src.error(
        item,
        path,
        `${source ?? ""}:${target}: bind mounts reach the host; use a named volume or bake the files into the image`,
      );
      continue;
    }
    if (type === "tmpfs") {
      mounts.push(tmpfs(volumes, target, tmpfsSize ?? DEFAULT_TMPFS_MIB));
      continue;
    }
    if (type !== "volume") {
      src.error(item, path, `type ${type}: not supported`);
      continue;
    }
    if (source === undefined) {
      // An anonymous volume lives as long as the container: scratch space.
      mounts.push({ ...tmpfs(volumes, target, DEFAULT_VOLUME_MIB), ...(readOnly ? { readOnly } : {}) });
      continue;
    }
    const name = podName(source);
    if (!name) {
      src.error(item, path, `volume ${source}: the name must become a DNS label`);
      continue;
    }
    if (!volumes.has(name)) {
      const declared = isMap(top) ? src.child(top, source) : undefined;
      if (!isMap(top) || !src.entries(top).some((e) => e.key === source))
        src.warn(item, path, `volume ${source} is not declared under volumes: made persistent`);
      if (isMap(declared)) {
        for (const e of src.entries(declared)) {
          src.warn(e.keyNode, `volumes.${source}.${e.key}`, "dropped: the provider keeps persistent volumes itself");
        }
      }
      volumes.set(name, { type: "persistent", name, sizeMiB: DEFAULT_VOLUME_MIB });
    }
    mounts.push({ volume: name, path: target, ...(readOnly ? { readOnly } : {}) });
  }
  return mounts;
}

function serviceSecrets(
  src: Source,
  node: Node | null,
  path: string,
  container: string,
  volumes: Map<string, Record<string, unknown>>,
  top: Node | undefined,
  placeholders: ImportPlaceholder[],
): Mount[] {
  if (!isSeq(node)) {
    src.error(node, path, "must be a list");
    return [];
  }
  const files: { path: string; blob: string }[] = [];
  const name = `${container}-secrets`.slice(0, 32).replace(/-+$/, "");
  for (const item of src.items(node)) {
    const v = src.plain(item);
    const secret = typeof v === "string" ? v : String((v as { source?: string }).source);
    const target = typeof v === "object" && v !== null ? (v as { target?: string }).target : undefined;
    if (typeof v === "object" && v !== null) unknownKeys(src, item, path, v, ["source", "target"]);
    if (target?.startsWith("/") && !target.startsWith("/run/secrets/")) {
      src.error(item, path, `${secret}: target ${target}: secrets are mounted under /run/secrets`);
      continue;
    }
    const file = (target ?? secret).replace(/^\/run\/secrets\//, "");
    const declared = isMap(top) ? src.plain(src.child(top, secret)) : undefined;
    const declaredFile =
      declared && typeof declared === "object" && "file" in declared
        ? String((declared as { file: unknown }).file)
        : "";
    const from = declaredFile ? ` --value-file ${declaredFile}` : "";
    if (!declared) src.warn(item, path, `secret ${secret} is not declared under secrets`);
    // `podnet secret add` takes the file's path inside the volume.
    const fix = `podnet secret add ${file}${from}`;
    src.warn(
      item,
      path,
      `secret ${secret}: pod.yaml gets a placeholder blob; run \`${fix}\` and put its blob id there`,
    );
    // The volume's index is known once the files are: `@` marks the path to complete below.
    placeholders.push({
      kind: "secret",
      path: `@${files.length}`,
      source: secret,
      fix,
      line: src.at(item).line,
      ...(declaredFile ? { file: declaredFile } : {}),
    });
    files.push({ path: file, blob: PLACEHOLDER_SECRET_BLOB });
  }
  if (files.length === 0) return [];
  const index = volumes.size;
  volumes.set(name, { type: "secret", name, files });
  for (const p of placeholders) {
    if (p.path.startsWith("@")) p.path = `volumes[${index}].files[${p.path.slice(1)}].blob`;
  }
  return [{ volume: name, path: "/run/secrets", readOnly: true }];
}

function deploy(
  src: Source,
  node: Node | null,
  path: string,
): { limits: { cpu?: number; memory?: number }; replicas?: { count: number; node: Node } } {
  const limits: { cpu?: number; memory?: number } = {};
  let replicas: { count: number; node: Node; path: string } | undefined;
  if (!isMap(node)) return { limits };
  for (const e of src.entries(node)) {
    const at = `${path}.${e.key}`;
    if (e.key === "replicas") {
      const count = Number(src.plain(e.value));
      if (!Number.isInteger(count) || count < 0) src.error(e.keyNode, at, "must be a whole number");
      else replicas = { count, node: e.keyNode, path: at };
    } else if (e.key === "resources" && isMap(e.value)) {
      const limit = src.child(e.value, "limits");
      const reservation = src.child(e.value, "reservations");
      const wanted: Record<string, { cpu?: number; memory?: number }> = { limits: {}, reservations: {} };
      for (const [kind, n] of [
        ["limits", limit],
        ["reservations", reservation],
      ] as const) {
        if (!isMap(n)) continue;
        for (const r of src.entries(n)) {
          const value = src.plain(r.value);
          const rp = `${at}.${kind}.${r.key}`;
          const parsed = r.key === "cpus" ? cpuMillis(value) : r.key === "memory" ? sizeMiB(value) : null;
          if (parsed === null) {
            src.warn(r.keyNode, rp, r.key === "devices" ? "dropped: pods get no devices" : "dropped: not supported");
          } else if (parsed === undefined) src.error(r.keyNode, rp, `cannot read ${String(value)}`);
          else (wanted[kind] as { cpu?: number; memory?: number })[r.key === "cpus" ? "cpu" : "memory"] = parsed;
        }
      }
      // A pod gets exactly what it pays for: the limit, else the reservation.
      const cpu = wanted.limits?.cpu ?? wanted.reservations?.cpu;
      const memory = wanted.limits?.memory ?? wanted.reservations?.memory;
      if (cpu !== undefined) limits.cpu = cpu;
      if (memory !== undefined) limits.memory = memory;
      if (isMap(limit) && isMap(reservation)) {
        src.warn(
          keyNode(e.value, "reservations"),
          `${at}.reservations`,
          "the limits are used: a pod gets what it pays for",
        );
      }
    } else src.warn(e.keyNode, at, "dropped: not supported");
  }
  return { limits, ...(replicas ? { replicas } : {}) };
}
