/**
 * pod.yaml files as the CLI reads and edits them. Reading goes through `parsePodSpec`, so every problem comes back as
 * `pod.yaml:line:column path: message`. Editing (`podnet image add --set`) uses the yaml Document API to find the
 * container's `image` value and replaces exactly that text: comments, blank lines, quoting and key order elsewhere
 * stay byte for byte as the publisher wrote them.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isAlias, isMap, isScalar, isSeq, type Node, parseDocument, Scalar } from "yaml";
import { parsePodSpec } from "../pod-spec.js";
import type { PodManifest } from "../protocol/index.js";
import { UsageError } from "./args.js";
import { CliError } from "./errors.js";

/** Reads and validates a pod spec; `shown` names the file in errors (as the user typed it). */
export function readPodFile(path: string, shown: string): { manifest: PodManifest; text: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`${shown}: cannot read it (${code === "ENOENT" ? "no such file" : (code ?? "unreadable")})`);
  }
  return { manifest: parsePodSpec(text, shown), text };
}

/**
 * `text` with container `container`'s image set to `image`. Without `container`, the pod's only container.
 * Throws a PodSpecError for YAML that does not parse, and names the containers when the one asked for is not there.
 */
export function setContainerImage(
  text: string,
  fileName: string,
  container: string | undefined,
  image: string,
): { text: string; container: string } {
  const doc = parseDocument(text, { version: "1.2", schema: "core", uniqueKeys: true });
  if (doc.errors.length > 0) parsePodSpec(text, fileName); // throws with line and column
  const containers = doc.get("containers", true) as Node | undefined;
  if (!isSeq(containers)) throw new CliError(`${fileName}: containers: missing, or not a list`);
  const named = containers.items.filter(isMap).map((item) => ({ item, name: item.get("name") }));
  const names = named.map((c) => String(c.name));
  let target: (typeof named)[number] | undefined;
  if (container === undefined) {
    if (named.length !== 1) {
      throw new UsageError(`--container: ${fileName} has ${named.length} containers (${names.join(", ")}); name one`);
    }
    target = named[0];
  } else {
    target = named.find((c) => c.name === container);
    if (!target) {
      throw new CliError(`${fileName}: containers: no container named ${container} (there are: ${names.join(", ")})`);
    }
  }
  const { item, name } = target as (typeof named)[number];
  const pair = item.items.find((p) => isScalar(p.key) && p.key.value === "image");
  const value = pair?.value as Node | undefined;
  const range = value?.range;
  if (pair && value && range && (isScalar(value) || isAlias(value))) {
    // Keep the publisher's quoting; anything but quotes is written plain (a blob: ref needs none).
    const type = isScalar(value) ? value.type : undefined;
    const written =
      type === Scalar.QUOTE_DOUBLE ? JSON.stringify(image) : type === Scalar.QUOTE_SINGLE ? `'${image}'` : image;
    return { text: text.slice(0, range[0]) + written + text.slice(range[1]), container: String(name) };
  }
  // No image field yet (or not a scalar): let the Document write it; comments are kept, possibly re-indented.
  item.set("image", image);
  return { text: doc.toString({ lineWidth: 0 }), container: String(name) };
}

/** Replaces a file atomically (temporary file + rename in the same folder), keeping it readable. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let mode = 0o644;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    // a new file
  }
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}
