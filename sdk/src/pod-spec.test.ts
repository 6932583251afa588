import { describe, expect, it } from "vitest";
import { MAX_POD_SPEC_BYTES, PodSpecError, type PodSpecIssue, parsePodSpec, podSpecTemplate } from "./pod-spec.js";
import { contentId } from "./protocol/content-id.js";
import { ManifestError, manifestHash, parseManifest } from "./protocol/manifest.js";

const cid = contentId(new TextEncoder().encode("x"));
const secretCid = contentId(new TextEncoder().encode("y"));
const digest = `sha256:${"ab".repeat(32)}`;

// Line numbers matter below: line 1 is `version: 1`.
const good = `version: 1
replicas: 2
containers:
  - name: web
    image: blob:${cid}
    env:
      MODE: production
    resources:
      cpuMillis: 250
      memoryMiB: 64
    mounts:
      - volume: creds
        path: /run/secrets
        readOnly: true
  - name: cache
    image: registry.example/cache@${digest}
    resources: {cpuMillis: 100, memoryMiB: 32}
volumes:
  - type: secret
    name: creds
    files:
      - path: api/token
        blob: ${secretCid}
expose:
  http:
    - container: web
      port: 8080
`;

const goodJson = {
  version: 1,
  replicas: 2,
  containers: [
    {
      name: "web",
      image: `blob:${cid}`,
      env: { MODE: "production" },
      resources: { cpuMillis: 250, memoryMiB: 64 },
      mounts: [{ volume: "creds", path: "/run/secrets", readOnly: true }],
    },
    { name: "cache", image: `registry.example/cache@${digest}`, resources: { cpuMillis: 100, memoryMiB: 32 } },
  ],
  volumes: [{ type: "secret", name: "creds", files: [{ path: "api/token", blob: secretCid }] }],
  expose: { http: [{ container: "web", port: 8080 }] },
};

/** `good` with line `line` (1-based) replaced by `text` (or removed when `text` is undefined). */
function edit(line: number, text?: string): string {
  const lines = good.split("\n");
  if (text === undefined) lines.splice(line - 1, 1);
  else lines[line - 1] = text;
  return lines.join("\n");
}

/** The issues parsePodSpec reports; fails the test when the spec is accepted. */
function issues(text: string, fileName?: string): PodSpecIssue[] {
  try {
    parsePodSpec(text, fileName);
  } catch (error) {
    expect(error).toBeInstanceOf(PodSpecError);
    expect(error).toBeInstanceOf(ManifestError);
    return (error as PodSpecError).issues;
  }
  throw new Error("pod spec was accepted");
}

function issue(text: string): PodSpecIssue {
  const found = issues(text);
  expect(found).toHaveLength(1);
  return found[0] as PodSpecIssue;
}

describe("parsePodSpec", () => {
  it("reads a pod.yaml into the same manifest, and hash, as the JSON form", () => {
    const manifest = parsePodSpec(good);
    expect(manifest).toEqual(parseManifest(goodJson));
    expect(manifestHash(manifest)).toBe(manifestHash(goodJson));
  });

  it("reads JSON (any indentation, tabs included) as YAML", () => {
    for (const indent of [undefined, 2, "\t"]) {
      expect(manifestHash(parsePodSpec(JSON.stringify(goodJson, null, indent), "pod.json"))).toBe(
        manifestHash(goodJson),
      );
    }
  });

  it("does not depend on comments, quoting, key order or flow style", () => {
    const restyled = `# my pod
expose: {http: [{port: 8080, container: "web"}]}
volumes: [{type: secret, name: creds, files: [{path: 'api/token', blob: "${secretCid}"}]}]
containers:
  - resources: {memoryMiB: 64, cpuMillis: 250}  # trailing comment
    name: "web"
    image: 'blob:${cid}'
    mounts: [{volume: creds, path: /run/secrets, readOnly: true}]
    env: {MODE: "production"}
  - {name: cache, image: "registry.example/cache@${digest}", resources: {cpuMillis: 100, memoryMiB: 32}}
replicas: 2
version: 1
`;
    expect(manifestHash(parsePodSpec(restyled))).toBe(manifestHash(goodJson));
  });

  it("resolves anchors, aliases and merge keys", () => {
    const text = `version: 1
x-small: &small {cpuMillis: 100, memoryMiB: 32}
containers:
  - name: a
    image: blob:${cid}
    resources: *small
  - name: b
    image: blob:${cid}
    resources:
      <<: *small
      memoryMiB: 64
`;
    // Unlike docker compose, there is no room for `x-` keys to hold anchors: the holder is an unknown key.
    expect(issue(text)).toMatchObject({ path: "manifest", message: expect.stringContaining("x-small"), line: 2 });
    const anchored = `version: 1
containers:
  - name: a
    image: &img blob:${cid}
    resources: &small {cpuMillis: 100, memoryMiB: 32}
  - name: b
    image: *img
    resources:
      <<: *small
      memoryMiB: 64
`;
    const parsed = parsePodSpec(anchored);
    expect(parsed.containers[0]?.resources).toEqual({ cpuMillis: 100, memoryMiB: 32, storageMiB: 0, pids: 256 });
    expect(parsed.containers[1]?.resources).toEqual({ cpuMillis: 100, memoryMiB: 64, storageMiB: 0, pids: 256 });
    expect(parsed.containers[1]?.image).toBe(`blob:${cid}`);
  });

  it("accepts its own template", () => {
    const manifest = parsePodSpec(podSpecTemplate());
    expect(manifest.containers).toHaveLength(1);
    expect(manifest.expose.http).toEqual([{ container: "web", port: 8080 }]);
    const withSchema = podSpecTemplate({ schemaUrl: "https://podnet.dev/schemas/pod-manifest-v1.json" });
    expect(withSchema.split("\n")[0]).toBe(
      "# yaml-language-server: $schema=https://podnet.dev/schemas/pod-manifest-v1.json",
    );
    expect(manifestHash(parsePodSpec(withSchema))).toBe(manifestHash(manifest));
  });
});

describe("parsePodSpec errors", () => {
  it("locates a bad value at its key, with the manifest path", () => {
    expect(issue(edit(9, "      cpuMillis: 0"))).toEqual({
      path: "containers[0].resources.cpuMillis",
      message: expect.stringMatching(/too small/i),
      line: 9,
      column: 7,
    });
    expect(issue(edit(17, "    resources: {cpuMillis: 100, memoryMiB: 0.5}"))).toMatchObject({
      path: "containers[1].resources.memoryMiB",
      line: 17,
      column: 33,
    });
    expect(issue(edit(5, "    image: nginx:latest"))).toMatchObject({
      path: "containers[0].image",
      line: 5,
      column: 5,
    });
    expect(issue(edit(27, "      port: 70000"))).toMatchObject({ path: "expose.http[0].port", line: 27, column: 7 });
  });

  it("names the file, line and column in the message, one issue per line, in file order", () => {
    const text = edit(9, "      cpuMillis: 0").replace("port: 8080", "port: 0");
    let error: PodSpecError | undefined;
    try {
      parsePodSpec(text, "deploy/pod.yaml");
    } catch (e) {
      error = e as PodSpecError;
    }
    expect(error?.name).toBe("PodSpecError");
    expect(error?.fileName).toBe("deploy/pod.yaml");
    const lines = error?.message.split("\n") ?? [];
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^deploy\/pod\.yaml:9:7 containers\[0\]\.resources\.cpuMillis: Too small: /);
    expect(lines[1]).toMatch(/^deploy\/pod\.yaml:27:7 expose\.http\[0\]\.port: Too small: /);
  });

  it("points at an unknown key such as privileged", () => {
    expect(issue(edit(7, "      MODE: production\n    privileged: true"))).toEqual({
      path: "containers[0]",
      message: expect.stringContaining("privileged"),
      line: 8,
      column: 5,
    });
    const top = issue(`${good}hostNetwork: true\n`);
    expect(top).toMatchObject({ path: "manifest", line: 28, column: 1 });
    expect(top.message).toContain("hostNetwork");
  });

  it("locates a missing field at its nearest parent", () => {
    expect(issue(edit(10))).toMatchObject({ path: "containers[0].resources.memoryMiB", line: 8, column: 5 });
    expect(issue(edit(1))).toMatchObject({ path: "version", line: 1, column: 1 });
    expect(issue(edit(16))).toMatchObject({ path: "containers[1].image", line: 15, column: 5 });
  });

  it("locates cross-field errors: an unknown volume, a duplicate name", () => {
    expect(issue(edit(12, "      - volume: nope"))).toEqual({
      path: "containers[0].mounts[0].volume",
      message: "no volume named nope",
      line: 12,
      column: 9,
    });
    expect(issue(edit(15, "  - name: web"))).toMatchObject({ path: "containers[1].name", line: 15, column: 5 });
  });

  it("locates a bad environment variable name", () => {
    expect(issue(edit(7, "      1BAD: x"))).toMatchObject({ path: "containers[0].env.1BAD", line: 7, column: 7 });
  });

  it("refuses duplicate keys", () => {
    expect(issue(edit(10, "      memoryMiB: 64\n      cpuMillis: 500"))).toEqual({
      path: "manifest",
      message: expect.stringMatching(/unique/i),
      line: 11,
      column: 7,
    });
  });

  it("reports YAML syntax errors with their line", () => {
    const unclosed = issues(edit(17, "    resources: {cpuMillis: 100, memoryMiB: 32"));
    expect(unclosed[0]).toMatchObject({ path: "manifest", line: 18 });
    // The first error is the cause; the parser may add follow-on errors on later lines.
    expect(issues(edit(9, "\t\tcpuMillis: 250"))[0]).toEqual({
      path: "manifest",
      message: expect.stringMatching(/tab/i),
      line: 9,
      column: 1,
    });
    expect(issue(`${good}---\nversion: 1\n`)).toMatchObject({ path: "manifest", line: 28 });
  });

  it("refuses custom and non-core tags", () => {
    expect(issue(edit(7, "      MODE: !secret production"))).toEqual({
      path: "containers[0].env.MODE",
      message: expect.stringContaining("!secret"),
      line: 7,
      column: 7,
    });
    expect(issue(edit(7, "      MODE: !!binary aGk="))).toMatchObject({ path: "containers[0].env.MODE", line: 7 });
    expect(issue(edit(3, "containers: !!set"))).toMatchObject({ path: "containers", line: 3, column: 1 });
    // The core schema's own tags only say what the value is.
    expect(parsePodSpec(edit(7, "      MODE: !!str production")).containers[0]?.env).toEqual({ MODE: "production" });
  });

  it("refuses integers not written in plain decimal, and YAML 1.1", () => {
    for (const value of ["0x10", "0o20", "1e3", "016", "+16", "16.0"]) {
      expect(issue(edit(9, `      cpuMillis: ${value}`))).toMatchObject({
        path: "containers[0].resources.cpuMillis",
        message: expect.stringContaining("plain decimal"),
        line: 9,
        column: 7,
      });
    }
    expect(issue(`%YAML 1.1\n---\n${good}`)).toMatchObject({
      path: "manifest",
      message: expect.stringContaining("1.1"),
    });
    expect(parsePodSpec(`%YAML 1.2\n---\n${good}`)).toEqual(parsePodSpec(good));
  });

  it("refuses non-string keys and unknown aliases", () => {
    expect(issue(edit(7, "      1: x"))).toMatchObject({ path: "containers[0].env", line: 7, column: 7 });
    expect(issue(edit(7, "      ? [a, b]\n      : x"))).toMatchObject({ path: "containers[0].env", line: 7 });
    expect(issue(edit(9, "      cpuMillis: *nope"))).toMatchObject({
      path: "containers[0].resources.cpuMillis",
      line: 9,
    });
  });

  it("refuses an empty file, a list and a scalar as the manifest", () => {
    for (const text of ["", "# nothing\n", "- a\n", "hello\n"]) {
      expect(issue(text)).toMatchObject({ path: "manifest", line: 1, column: 1 });
    }
  });

  it("refuses a file over the size limit and an alias bomb", () => {
    expect(issue(`# ${"x".repeat(MAX_POD_SPEC_BYTES)}\n${good}`).message).toContain(String(MAX_POD_SPEC_BYTES));
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      bomb.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    expect(issue(bomb.join("\n"))).toMatchObject({ path: "manifest", message: expect.stringMatching(/alias/i) });
  });
});
