/**
 * What `importCompose` and `importSdl` share: reading the source file with line positions (the `yaml` Document API,
 * the library pod.yaml is read with), collecting warnings and errors that name the source line, the placeholders a
 * publisher fills before deploying, and the final check of the result against the pod and app.yaml schemas.
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type YAMLMap,
} from "yaml";
import { MAX_POD_SPEC_BYTES, PodSpecError, type PodSpecIssue } from "../pod-spec.js";
import { AppConfigError, parseAppConfig } from "../protocol/app-config.js";
import { contentId } from "../protocol/content-id.js";
import { ManifestError, type PodManifest, parseManifest } from "../protocol/manifest.js";

/** One problem of the source file: `path` in the source's notation (`services.web.build`), 1-based line and column. */
export interface ImportIssue extends PodSpecIssue {
  file: string;
}

/** A value the importer could not produce (an image to pin or encrypt, a secret to encrypt), filled in by hand. */
export interface ImportPlaceholder {
  kind: "image" | "secret";
  /** Where in pod.yaml: `containers[0].image`, `volumes[2].files[0].blob`. */
  path: string;
  /** What the source named: the image reference, or the secret's name. */
  source: string;
  /** The command that produces the real value. */
  fix: string;
  line: number;
  /** A secret's file as the source declares it (`secrets.<name>.file`, relative to the source), when it has one. */
  file?: string;
}

export interface ImportResult {
  /**
   * pod.yaml's content as it is written (defaults left out); it passes `parseManifest`/`parsePodSpec`
   * (placeholders included, see `placeholders`).
   */
  podYaml: Record<string, unknown>;
  /** app.yaml's content, present when the source asks for more than one instance; passes `parseAppConfig`. */
  appYaml?: Record<string, unknown>;
  /** Values to replace before deploying: the importer could not make them. Each also has a warning. */
  placeholders: ImportPlaceholder[];
  /** Everything carried over differently or dropped, with the reason. */
  warnings: ImportIssue[];
}

export interface ImportOptions {
  /** Names the source in every issue, and is the folder `env_file` paths are read relative to. */
  file?: string;
  /** Reads a file the source refers to (`env_file`); absent, such references are errors. Pure tests pass a map. */
  readFile?: (path: string) => string;
}

export type ImportErrorType = ImportError & { name: "ImportError" };

/**
 * The source asks for something a pod cannot do (a build, host access, a bind mount...). A PodSpecError, so the CLI
 * and callers print it like a bad pod.yaml: one `file:line:column path: message` line per issue. `warnings` are the
 * ones found before giving up, so a caller can show everything at once.
 */
export class ImportError extends PodSpecError {
  override name = "ImportError";
  override readonly docsPath = "docs/import.md#errors";
  declare readonly issues: ImportIssue[];
  constructor(
    fileName: string,
    issues: ImportIssue[],
    readonly warnings: ImportIssue[],
  ) {
    super(fileName, issues);
  }
}

/** The keys of a placeholder's `path`: `volumes[1].files[0].blob` → `["volumes", 1, "files", 0, "blob"]`. */
export function placeholderKeys(path: string): (string | number)[] {
  return path
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

/** Placeholder image digest: all zeros, so a pod.yaml deployed unfilled fails at the pull, never runs something else. */
export const PLACEHOLDER_DIGEST = `sha256:${"0".repeat(64)}`;
/** Placeholder secret blob: the content id of this text, which no encrypted secret has. */
export const PLACEHOLDER_SECRET_BLOB = contentId(new TextEncoder().encode("podnet import: secret placeholder"));

/** The source file with positions, and the issues found so far. */
export class Source {
  readonly root: YAMLMap;
  readonly warnings: ImportIssue[] = [];
  readonly errors: ImportIssue[] = [];
  readonly placeholders: ImportPlaceholder[] = [];
  private readonly lines = new LineCounter();
  private readonly doc: Document;

  constructor(
    text: string,
    readonly file: string,
  ) {
    if (text.length > MAX_POD_SPEC_BYTES) {
      this.errors.push({ file, line: 1, column: 1, path: "file", message: `larger than ${MAX_POD_SPEC_BYTES} bytes` });
      this.fail();
    }
    // Compose files use YAML 1.1 merge keys (`<<: *common`) for shared settings.
    const doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false, merge: true });
    this.doc = doc;
    for (const e of doc.errors) {
      const { line, col: column } = this.lines.linePos(e.pos[0]);
      this.errors.push({ file, line, column, path: "file", message: e.message.split("\n")[0] as string });
    }
    if (this.errors.length === 0) {
      try {
        // Expands every alias once, so that an alias bomb stops here, not later in the walk.
        doc.toJS({ maxAliasCount: 100 });
      } catch (error) {
        this.errors.push({ file, line: 1, column: 1, path: "file", message: (error as Error).message });
      }
    }
    this.fail();
    if (!isMap(doc.contents)) {
      this.errors.push({ file, line: 1, column: 1, path: "file", message: "must be a YAML map" });
      this.fail();
    }
    this.root = doc.contents as YAMLMap;
  }

  /** The 1-based line and column where `node` starts. */
  at(node: Node | null | undefined): { line: number; column: number } {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 1, column: 1 };
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  warn(node: Node | null | undefined, path: string, message: string): void {
    this.warnings.push({ file: this.file, ...this.at(node), path, message });
  }

  error(node: Node | null | undefined, path: string, message: string): void {
    this.errors.push({ file: this.file, ...this.at(node), path, message });
  }

  /** Issues in file order (they are found service by service, key by key). */
  sorted(issues: ImportIssue[]): ImportIssue[] {
    return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
  }

  /** Throws an ImportError when any error was found. */
  fail(): void {
    if (this.errors.length > 0) throw new ImportError(this.file, this.sorted(this.errors), this.sorted(this.warnings));
  }

  /** The node an alias (`*name`) stands for; any other node as it is. */
  resolve(node: Node | null | undefined): Node | null {
    if (node === undefined || node === null) return null;
    return isAlias(node) ? ((node.resolve(this.doc) as Node | undefined) ?? null) : node;
  }

  /** A plain JavaScript value of a node, aliases resolved (at most 100, as pod.yaml allows). */
  plain(node: Node | null | undefined): unknown {
    if (node === null || node === undefined) return null;
    return node.toJS(this.doc, { maxAliasCount: 100 });
  }

  /** The value node of `key` in `map`, aliases resolved, or undefined. */
  child(map: YAMLMap, key: string): Node | undefined {
    return this.entries(map).find((e) => e.key === key)?.value ?? undefined;
  }

  /** A sequence's items, aliases resolved. */
  items(seq: Node | null | undefined): Node[] {
    return isSeq(seq) ? (seq.items as Node[]).map((i) => this.resolve(i) as Node) : [];
  }

  /**
   * A map's entries with their key nodes (for positions) and value nodes, `<<` merge keys expanded (keys written in
   * the map win; merged ones point at the line of the anchored map they come from).
   */
  entries(map: YAMLMap): { key: string; keyNode: Node; value: Node | null }[] {
    const own: { key: string; keyNode: Node; value: Node | null }[] = [];
    const merged: { key: string; keyNode: Node; value: Node | null }[] = [];
    for (const p of map.items as Pair<Node, Node | null>[]) {
      // With `merge: true` the parser gives the merge key a Symbol value.
      const merge = isScalar(p.key) && (p.key.value === "<<" || typeof p.key.value === "symbol");
      const key = isScalar(p.key) ? String(p.key.value) : String(p.key);
      if (!merge) {
        own.push({ key, keyNode: p.key, value: this.resolve(p.value) });
        continue;
      }
      const sources = isSeq(p.value) ? (p.value.items as Node[]) : [p.value];
      for (const source of sources) {
        const resolved = this.resolve(source);
        if (isMap(resolved)) merged.push(...this.entries(resolved));
      }
    }
    const keys = new Set(own.map((e) => e.key));
    return [...own, ...merged.filter((e) => !keys.has(e.key) && keys.add(e.key))];
  }
}

/** The key node of `key` in `map` (where the warnings about the key point). */
export function keyNode(map: YAMLMap, key: string): Node | undefined {
  const pair = (map.items as Pair<Node, Node | null>[]).find((p) => isScalar(p.key) && String(p.key.value) === key);
  return pair?.key;
}

export { isMap, isScalar, isSeq };

/**
 * A pod container or volume name from a source name: lowercased, `_` and `.` turned into `-` (a DNS label, as pod
 * names must be). Undefined when even that is not a valid name.
 */
export function podName(name: string): string | undefined {
  const candidate = name.toLowerCase().replace(/[_.]/g, "-");
  return /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(candidate) ? candidate : undefined;
}

/**
 * The pod image for a source image reference: kept when it is pinned by digest, else the repository with the
 * all-zero placeholder digest (and a placeholder entry saying how to fill it).
 */
export function podImage(
  src: Source,
  node: Node,
  path: string,
  ref: string,
  container: string,
): { image: string; placeholder?: ImportPlaceholder } {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return { image: ref };
  // Drop the tag (a `:` after the last `/`), keep registry and path; fall back to a neutral name when odd.
  const lastSlash = ref.lastIndexOf("/");
  const colon = ref.indexOf(":", lastSlash + 1);
  const repo = (colon >= 0 ? ref.slice(0, colon) : ref).split("@")[0]?.toLowerCase() ?? "";
  const name = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(repo) ? repo : "image";
  const fix = `podnet image add ${ref} --set pod.yaml --container ${container}`;
  src.warn(
    node,
    path,
    `image ${ref} is not pinned: pod.yaml gets a placeholder digest (all zeros); run \`${fix}\` or write ${name}@sha256:<digest>`,
  );
  const placeholder = { kind: "image" as const, path: "", source: ref, fix, line: src.at(node).line };
  return { image: `${name}@${PLACEHOLDER_DIGEST}`, placeholder };
}

/**
 * MiB (rounded up) of a size: bytes as a number, or `512m`, `1g`, `1Gi`, `512Mi`, `100k`, `1024b`, `1.5G`. Compose
 * sizes are binary whatever the spelling (Docker's units); SDL's are Kubernetes quantities, where `M`/`G` are
 * decimal and `Mi`/`Gi` binary: `decimalUnits` says which.
 */
export function sizeMiB(value: unknown, decimalUnits = false): number | undefined {
  const text = String(value).trim();
  const m = /^(\d+)(?:\.(\d+))?\s*([kmgtpe]?)(i?)(b?)$/i.exec(text);
  if (!m) return undefined;
  const [, whole, fraction = "", unit = "", binary, bytesSuffix] = m;
  if (unit === "" && binary !== "") return undefined;
  const decimal = decimalUnits && binary === "" && bytesSuffix === "" && unit !== "";
  const base = BigInt(decimal ? 1000 : 1024);
  const power = BigInt(" kmgtpe".indexOf(unit.toLowerCase() || " "));
  const scale = 10n ** BigInt(fraction.length);
  const bytes = (BigInt(`${whole}${fraction}`) * base ** power) / scale;
  const mib = (bytes + 1048575n) / 1048576n;
  return mib > 4294967295n ? undefined : Number(mib);
}

/** Thousandths of a core from `0.5`, `"1.25"`, `2`; undefined for anything else (no float arithmetic). */
export function cpuMillis(value: unknown): number | undefined {
  const m = /^(\d+)(?:\.(\d{1,3})\d*)?$/.exec(String(value).trim());
  if (!m) return undefined;
  const millis = Number(m[1]) * 1000 + Number((m[2] ?? "").padEnd(3, "0"));
  return millis >= 1 && millis <= 4294967295 ? millis : undefined;
}

/** An app.yaml for `target` instances, the defaults of `podnet init --app`, health by the pod's first expose. */
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);

export function appYamlFor(target: number, pod: PodManifest, maxPerInstance = "1000"): Record<string, unknown> {
  const http = pod.expose.http[0];
  const tcp = pod.expose.tcp[0];
  const health = http || !tcp ? { type: "http", path: "/" } : { type: "tcp", port: tcp.port };
  return {
    version: 1,
    instances: { target, min: 1, maxPerProvider: 1 },
    price: { maxPerInstance },
    // A day at the price cap, at least the init default: keepFunded (6 h) at the cap must fit in one lease's deposit.
    funding: { depositPerLease: String(maxBig(86_400_000n, BigInt(maxPerInstance) * 86_400n)), keepFunded: "6h" },
    health,
  };
}

/**
 * Checks the built pod (and app) against the schemas. A failure here is a source value out of the pod's limits
 * (a cpu count too large, a name twice...): reported at `nodeOf(path)`, the source node the pod path came from.
 */
function validate(src: Source, pod: unknown, app: unknown, nodeOf: (path: string) => Node | undefined): PodManifest {
  let manifest: PodManifest | undefined;
  try {
    manifest = parseManifest(pod);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    for (const i of error.issues) src.error(nodeOf(i.path), i.path, `pod.yaml ${i.path}: ${i.message}`);
  }
  if (app !== undefined) {
    try {
      parseAppConfig(app);
    } catch (error) {
      if (!(error instanceof AppConfigError)) throw error;
      for (const i of error.issues) src.error(undefined, i.path, `app.yaml ${i.path}: ${i.message}`);
    }
  }
  src.fail();
  return manifest as PodManifest;
}

/** Validates the built pod, adds the app.yaml for `instances` (more than one), and returns the result. */
export function finishImport(
  src: Source,
  pod: Record<string, unknown>,
  instances: { count: number; node: Node | undefined; path: string; maxPerInstance?: string } | undefined,
  placeholders: ImportPlaceholder[],
  containerNodes: Node[],
): ImportResult {
  const nodeOf = (path: string) => {
    const m = /^containers\[(\d+)\]/.exec(path);
    return m ? containerNodes[Number(m[1])] : undefined;
  };
  const manifest = validate(src, pod, undefined, nodeOf);
  if (!instances) return { podYaml: pod, placeholders, warnings: src.sorted(src.warnings) };
  src.warn(
    instances.node,
    instances.path,
    `${instances.count} instances: app.yaml gets the defaults of \`podnet init --app\` for price, funding and health; review them`,
  );
  const appYaml = appYamlFor(instances.count, manifest, instances.maxPerInstance);
  validate(src, pod, appYaml, nodeOf);
  return { podYaml: pod, appYaml, placeholders, warnings: src.sorted(src.warnings) };
}

/**
 * Warns about each key of a long-syntax entry (a port, volume, secret, SDL expose) that is not in `known`: `uid`,
 * `gid` and `mode` of a secret (secret files are read-only to everyone in the pod), unknown future keys.
 */
export function unknownKeys(src: Source, item: Node, path: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) src.warn(item, `${path}.${key}`, "dropped: not supported");
  }
}
