import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type ParsedNode,
  parseDocument,
  type YAMLMap,
} from "yaml";
import { formatPath, ManifestError, type ManifestIssue, type PodManifest, parseManifest } from "./protocol/manifest.js";

/**
 * pod.yaml: the file a publisher writes. YAML 1.2 (so JSON too) read into the manifest v1 schema of
 * `protocol/manifest.ts`, with every error pointing at a line and column of the file.
 *
 * The file is only a way of writing the manifest: what is hashed into the lease's `specHash` is the validated
 * manifest's canonical JSON, so comments, key order, quoting, flow or block style, anchors and aliases do not change
 * the hash. What could make one text mean two things is refused: tags other than YAML's standard ones, a `%YAML`
 * version other than 1.2, non-string keys, and integers not written in plain decimal (`0755` is 755 to a YAML 1.2
 * reader and 493 to a YAML 1.1 one).
 */

/** Largest pod.yaml read, in bytes: comments may make it bigger than the 64 KiB canonical manifest, not unbounded. */
export const MAX_POD_SPEC_BYTES = 1024 * 1024;

/** One bad field of a pod.yaml: `path` as in {@link ManifestIssue}, `line` and `column` 1-based. */
export interface PodSpecIssue extends ManifestIssue {
  line: number;
  column: number;
}

export type PodSpecErrorType = PodSpecError & { name: "PodSpecError" };

/**
 * A pod.yaml failed to parse or validate. The message has one line per issue, as compilers print them:
 * `pod.yaml:12:7 containers[0].resources.cpuMillis: Too small: expected number to be >=1`.
 */
export class PodSpecError extends ManifestError {
  override name = "PodSpecError";
  declare readonly issues: PodSpecIssue[];
  readonly fileName: string;
  constructor(fileName: string, issues: PodSpecIssue[]) {
    super(issues, issues.map((i) => `${fileName}:${i.line}:${i.column} ${i.path}: ${i.message}`).join("\n"));
    this.fileName = fileName;
  }
}

// The YAML 1.2 core schema's tags (and the failsafe ones): they only say what a plain scalar would resolve to anyway.
const STANDARD_TAGS = new Set(
  ["str", "int", "float", "bool", "null", "map", "seq"].map((name) => `tag:yaml.org,2002:${name}`),
);
const PLAIN_DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * Reads a pod.yaml (or pod.json) and validates it as a pod manifest, writing out its defaults.
 *
 * @param fileName names the file in error messages.
 * @throws {PodSpecError} with every YAML error, or else every schema error, each with its path, line and column.
 * @example
 * const manifest = parsePodSpec(readFileSync("pod.yaml", "utf8"));
 * const specHash = manifestHash(manifest);
 */
export function parsePodSpec(text: string, fileName = "pod.yaml"): PodManifest {
  return parseYamlFile(text, {
    root: "manifest",
    maxBytes: MAX_POD_SPEC_BYTES,
    validate: parseManifest,
    issuesOf: (error) => (error instanceof ManifestError ? error.issues : undefined),
    fail: (issues) => {
      throw new PodSpecError(fileName, issues);
    },
  });
}

/** How {@link parseYamlFile} reads one kind of file (pod.yaml, app.yaml). */
export interface YamlFileRules<T> {
  /** How issues about the whole file name it: `manifest`, `config`. */
  root: string;
  /** Largest file read, in bytes. */
  maxBytes: number;
  /** Validates the plain value the YAML holds. */
  validate: (input: unknown) => T;
  /** The issues of a validation error (paths as `formatPath` writes them), or undefined for any other error. */
  issuesOf: (error: unknown) => ManifestIssue[] | undefined;
  /** Throws the file's error for `issues` (sorted by line and column). */
  fail: (issues: PodSpecIssue[]) => never;
}

/**
 * Reads a YAML 1.2 file under pod.yaml's rules (size cap, no custom tags, string keys, plain decimal integers, at most
 * 100 aliases resolved, so a "billion laughs" file is refused) and validates it, every issue with a line and column.
 */
export function parseYamlFile<T>(text: string, rules: YamlFileRules<T>): T {
  const { root } = rules;
  const lineCounter = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const fail = (issues: PodSpecIssue[]): never => {
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    return rules.fail(issues);
  };

  const size = new TextEncoder().encode(text).length;
  if (size > rules.maxBytes) {
    fail([{ path: root, message: `is ${size} bytes, the limit is ${rules.maxBytes}`, line: 1, column: 1 }]);
  }

  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    version: "1.2",
    schema: "core",
  });
  if (doc.errors.length > 0) {
    // One error a line: the parser's follow-on errors after a syntax error on a line only repeat it.
    const byLine = new Map<number, PodSpecIssue>();
    for (const e of doc.errors) {
      const where = at(e.pos[0]);
      if (!byLine.has(where.line)) byLine.set(where.line, { path: root, message: e.message, ...where });
    }
    fail([...byLine.values()]);
  }
  const version = doc.directives?.yaml.version;
  if (doc.directives?.yaml.explicit && version !== "1.2") {
    fail([{ path: root, message: `YAML ${version} is not supported: remove the %YAML directive`, ...at(0) }]);
  }

  const issues = lint(doc, root);
  if (issues.length > 0) fail(issues.map((i) => ({ path: i.path, message: i.message, ...at(i.offset) })));

  let input: unknown;
  try {
    input = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    fail([{ path: root, message: (error as Error).message, ...at(0) }]);
  }
  try {
    return rules.validate(input);
  } catch (error) {
    const found = rules.issuesOf(error);
    if (!found) throw error;
    return fail(found.map((i) => ({ ...i, ...at(locate(doc, i, root)) })));
  }
}

interface LintIssue {
  path: string;
  message: string;
  offset: number;
}

const tagMessage = (tag: string) => `tag ${tag} is not allowed: the file holds plain YAML values only`;

/** What YAML would accept but a pod.yaml does not: custom tags, non-string keys, integers in other notations. */
function lint(doc: Document.Parsed, root: string): LintIssue[] {
  const issues: LintIssue[] = [];
  // `offset` is where the issue is reported: the key of a map entry, like schema issues.
  const walk = (node: Node | null | undefined, path: (string | number)[], offset: number) => {
    if (!node) return;
    const issue = (message: string, where = offset) =>
      issues.push({ path: formatPath(path, root), message, offset: where });
    if (isAlias(node)) {
      // The anchored node is walked where it is defined.
      if (!node.resolve(doc)) issue(`alias *${node.source} has no anchor before it`);
      return;
    }
    if (node.tag !== undefined && !STANDARD_TAGS.has(node.tag)) {
      issue(tagMessage(node.tag));
    }
    if (isScalar(node)) {
      const source = typeof node.source === "string" ? node.source : undefined;
      if (
        typeof node.value === "number" &&
        Number.isInteger(node.value) &&
        source !== undefined &&
        !PLAIN_DECIMAL_INTEGER.test(source)
      ) {
        issue(`write integers in plain decimal (${node.value}), not ${source}`);
      }
    } else if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        const keyOffset = key?.range?.[0] ?? offset;
        if (isScalar(key) && typeof key.value === "symbol") {
          walk(pair.value as Node | null, path, keyOffset); // a `<<` merge key
        } else if (isScalar(key) && typeof key.value === "string") {
          if (key.tag !== undefined && !STANDARD_TAGS.has(key.tag)) issue(tagMessage(key.tag), keyOffset);
          walk(pair.value as Node | null, [...path, key.value], keyOffset);
        } else {
          issue("keys must be strings", keyOffset);
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item as Node | null, [...path, i], (item as Node | null)?.range?.[0] ?? offset);
      });
    }
  };
  walk(doc.contents, [], 0);
  return issues;
}

/**
 * The source offset of an issue: the key of the field its path names (the item, for a list element), or the nearest
 * parent the file has when the field is missing. An unknown key is located at the key itself.
 */
function locate(doc: Document.Parsed, issue: ManifestIssue, root: string): number {
  const top = doc.contents as ParsedNode | null;
  let node: Node | null | undefined = top;
  let offset = top?.range[0] ?? 0;
  let rest = issue.path === root ? "" : issue.path;
  let first = true;
  while (node) {
    if (isAlias(node)) {
      node = node.resolve(doc);
      continue;
    }
    if (rest === "") break;
    if (isSeq(node)) {
      const match = /^\[(\d+)\]/.exec(rest);
      const item: Node | undefined = match ? (node.items[Number(match[1])] as Node | undefined) : undefined;
      if (!match || !item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
      rest = rest.slice(match[0].length);
    } else if (isMap(node)) {
      if (!first && !rest.startsWith(".")) break;
      const text = first ? rest : rest.slice(1);
      const found = findKey(
        doc,
        node,
        (key) => text === key || text.startsWith(`${key}.`) || text.startsWith(`${key}[`),
      );
      if (!found) break;
      node = found.value;
      offset = found.offset;
      rest = text.slice(found.key.length);
    } else {
      break;
    }
    first = false;
  }
  // zod reports unknown keys at their object: point at the first of them instead.
  if (rest === "" && isMap(node) && /^Unrecognized keys?: /.test(issue.message)) {
    const unknown = findKey(doc, node, (key) => issue.message.includes(JSON.stringify(key)), true);
    if (unknown) offset = unknown.offset;
  }
  return offset;
}

/**
 * The entry of `map` whose key `matches`, preferring the longest key (keys may contain dots) and the map's own keys
 * over merged (`<<`) ones. With `earliest`, the first matching key in the file instead of the longest.
 */
function findKey(
  doc: Document.Parsed,
  map: YAMLMap,
  matches: (key: string) => boolean,
  earliest = false,
): { key: string; value: Node | null; offset: number } | undefined {
  let best: { key: string; value: Node | null; offset: number } | undefined;
  const merged: Node[] = [];
  for (const pair of map.items) {
    const key = pair.key as Node | null;
    if (!isScalar(key)) continue;
    if (typeof key.value === "symbol") {
      const value = pair.value as Node | null;
      if (isSeq(value)) merged.push(...(value.items as Node[]));
      else if (value) merged.push(value);
      continue;
    }
    const text = String(key.value);
    if (!matches(text)) continue;
    if (best && (earliest || best.key.length >= text.length)) continue;
    best = { key: text, value: pair.value as Node | null, offset: key.range?.[0] ?? 0 };
  }
  if (best) return best;
  for (let source of merged) {
    if (isAlias(source)) source = source.resolve(doc) as Node;
    if (!isMap(source)) continue;
    const found = findKey(doc, source, matches, earliest);
    if (found) return found;
  }
  return undefined;
}

const TEMPLATE_DIGEST = `sha256:${"0".repeat(64)}`;

/**
 * The pod.yaml `podnet init` writes: one web container serving HTTP, every field commented.
 * Its image is a placeholder registry reference; `schemaUrl` adds the yaml-language-server comment for editors.
 */
export function podSpecTemplate(options: { schemaUrl?: string } = {}): string {
  const header = options.schemaUrl ? `# yaml-language-server: $schema=${options.schemaUrl}\n` : "";
  return `${header}# A Podnet pod: what providers run for you. Reference: docs/pod-spec.md
# Its hash (keccak256 of the validated manifest, defaults written out) is the lease's spec hash:
# comments, key order and formatting do not change it.
version: 1

# How many copies of the pod to run (1-16). Each costs the pod's resources; HTTP traffic is balanced across them.
replicas: 1

containers:
  - name: web # lowercase letters, digits and '-'; other containers reach this one by this name
    # The image, pinned so it cannot change under a running lease. Either a registry image by digest:
    #   registry.example/web@sha256:<64 hex digits>    (docker buildx imagetools inspect <image> prints the digest)
    # or a private image encrypted for your providers, made from \`docker save\`:
    #   blob:<content id printed by "podnet image add">
    image: registry.example/web@${TEMPLATE_DIGEST}
    # command: ["/bin/server"]  # replaces the image's entrypoint
    # args: ["--port", "8080"]  # replaces the image's cmd
    env: # plain configuration, visible to the provider; put secrets in a secret volume
      PORT: "8080" # values are strings: quote numbers
    resources:
      cpuMillis: 250 # thousandths of a CPU core
      memoryMiB: 128 # memory limit, no swap
      storageMiB: 0 # writable layer (defaults to 0)
      # pids: 256    # process limit (defaults to 256)
    # mounts:
    #   - volume: data
    #     path: /data

# volumes:
#   - type: persistent # or empty (scratch) or secret (encrypted files, read-only)
#     name: data
#     sizeMiB: 1024

expose:
  # Served by the provider's ingress at http://l<lease>.<provider's domain>/
  http:
    - container: web
      port: 8080
      # host: www.example.com  # also answer for your own domain (point its DNS at the provider)
  # tcp:                       # raw TCP, on a host port the provider allocates
  #   - container: web
  #     port: 5432
`;
}
