/**
 * The sidecar image's root file system, without Docker: which host files `ldd`'s answer lets into the image (hostile
 * answers refused with the offending path), the planned file list, and a tar that is the same bytes for the same inputs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extract, type Header } from "tar-stream";
import { describe, expect, it } from "vitest";
import { bundleEntry } from "../autoscaler/image/bundle.js";
import { parseLddOutput } from "../autoscaler/image/ldd.js";
import { planRootfs, writeRootfsTar } from "../autoscaler/image/rootfs.js";

/** What glibc's ldd prints for the nodesource node binary on Debian 12. */
const DEBIAN_NODE_LDD = `\tlinux-vdso.so.1 (0x00007ffd6b1f2000)
\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f6cf8712000)
\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f6cf8400000)
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f6cf8632000)
\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f6cf83e0000)
\tlibpthread.so.0 => /lib/x86_64-linux-gnu/libpthread.so.0 (0x00007f6cf862d000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f6cf81fe000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f6cf872a000)
`;

describe("autoscaler image: ldd's answer", () => {
  it("lists the loader and each library once, sorted, without the kernel's vdso", () => {
    const objects = parseLddOutput(`${DEBIAN_NODE_LDD}\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n`, "node");
    expect(objects.loader).toBe("/lib64/ld-linux-x86-64.so.2");
    expect(objects.libraries).toEqual([
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib/x86_64-linux-gnu/libdl.so.2",
      "/lib/x86_64-linux-gnu/libgcc_s.so.1",
      "/lib/x86_64-linux-gnu/libm.so.6",
      "/lib/x86_64-linux-gnu/libpthread.so.0",
      "/lib/x86_64-linux-gnu/libstdc++.so.6",
    ]);
  });

  it("reads a static binary as needing nothing", () => {
    expect(parseLddOutput("\tnot a dynamic executable\n", "busybox")).toEqual({ loader: undefined, libraries: [] });
    expect(parseLddOutput("\tstatically linked\n", "busybox")).toEqual({ loader: undefined, libraries: [] });
  });

  it.each([
    [
      "a library path with ..",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/../../etc/shadow (0x1)\n",
      "/lib/x86_64-linux-gnu/../../etc/shadow",
    ],
    ["a relative library path", "\tlibc.so.6 => lib/libc.so.6 (0x1)\n", "lib/libc.so.6"],
    ["a library path with an empty part", "\tlibc.so.6 => /lib//libc.so.6 (0x1)\n", "/lib//libc.so.6"],
    ["a library path with a space", "\tlibc.so.6 => /tmp/a b/libc.so.6 (0x1)\n", "/tmp/a b/libc.so.6"],
    ["a loader path with ..", "\t/lib64/../etc/shadow (0x1)\n", "/lib64/../etc/shadow"],
    ["a loader path with a . part", "\t/lib64/./ld.so (0x1)\n", "/lib64/./ld.so"],
  ])("refuses %s, naming it", (_case, output, path) => {
    expect(() => parseLddOutput(`${DEBIAN_NODE_LDD.split("\n").slice(0, 3).join("\n")}\n${output}`, "node")).toThrow(
      `refusing library path ${JSON.stringify(path)}`,
    );
  });

  it("names every library the host lacks", () => {
    const output = `${DEBIAN_NODE_LDD}\tlibfoo.so.1 => not found\n\tlibbar.so.2 => not found\n`;
    expect(() => parseLddOutput(output, "/usr/bin/node")).toThrow(
      "ldd /usr/bin/node: shared libraries not found on this host: libfoo.so.1, libbar.so.2",
    );
  });

  it("refuses lines it cannot read, two loaders, and libraries without a loader", () => {
    expect(() => parseLddOutput(`${DEBIAN_NODE_LDD}\tsomething odd\n`, "node")).toThrow(
      'cannot read line "something odd"',
    );
    expect(() => parseLddOutput(`${DEBIAN_NODE_LDD}\t/lib/ld-other.so (0x1)\n`, "node")).toThrow("two dynamic loaders");
    expect(() => parseLddOutput("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n", "node")).toThrow("no dynamic loader");
  });
});

/** Fake host files standing in for node and its libraries. */
function fakeHost() {
  const dir = mkdtempSync(join(tmpdir(), "podnet-rootfs-"));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  return {
    node: file("node", "#!fake node"),
    ca: file("ca.crt", "-----BEGIN CERTIFICATE-----"),
    objects: { loader: file("ld.so", "loader"), libraries: [file("libc.so.6", "libc")] },
    dir,
  };
}

async function tarHeader(tar: Buffer): Promise<Header[]> {
  const headers: Header[] = [];
  const reader = extract();
  const done = (async () => {
    for await (const entry of reader) {
      headers.push(entry.header);
      entry.resume();
    }
  })();
  reader.end(tar);
  await done;
  return headers;
}

describe("autoscaler image: the root file system", () => {
  it("holds exactly node, its shared objects, the CA bundle, the user files, /tmp and the bundle", () => {
    const host = fakeHost();
    const entries = planRootfs({
      bundle: Buffer.from("console.log(1)"),
      nodeBinary: host.node,
      sharedObjects: host.objects,
      caBundle: host.ca,
    });
    const d = host.dir;
    const parents = d
      .split("/")
      .slice(1)
      .map((_, i, parts) => `/${parts.slice(0, i + 1).join("/")}`);
    expect(entries.map((e) => e.path)).toEqual(
      [
        "/app",
        "/app/main.js",
        "/app/package.json",
        "/etc",
        "/etc/group",
        "/etc/passwd",
        "/etc/ssl",
        "/etc/ssl/certs",
        "/etc/ssl/certs/ca-certificates.crt",
        "/tmp",
        "/usr",
        "/usr/bin",
        "/usr/bin/node",
        ...parents.filter((p) => p !== "/tmp"),
        `${d}/ld.so`,
        `${d}/libc.so.6`,
      ].sort(),
    );
    expect(entries.find((e) => e.path === "/tmp")).toMatchObject({ type: "directory", mode: 0o1777 });
    const passwd = entries.find((e) => e.path === "/etc/passwd");
    expect(passwd && "content" in passwd && Buffer.from(passwd.content).toString()).toContain(
      "app:x:10001:10001:app:/tmp:",
    );
  });

  it("refuses a library ldd places over a file the image plans (/etc/passwd)", () => {
    const host = fakeHost();
    expect(() =>
      planRootfs({
        bundle: Buffer.from(""),
        nodeBinary: host.node,
        sharedObjects: { loader: host.objects.loader, libraries: ["/etc/passwd"] },
        caBundle: null,
      }),
    ).toThrow("rootfs: /etc/passwd planned twice");
  });

  it("writes the same tar for the same inputs: root-owned entries with mtime 0", async () => {
    const host = fakeHost();
    const plan = () =>
      planRootfs({ bundle: Buffer.from("x"), nodeBinary: host.node, sharedObjects: host.objects, caBundle: null });
    const first = await writeRootfsTar(plan());
    const second = await writeRootfsTar(plan());
    expect(second.diffId).toBe(first.diffId);
    expect(second.tar.equals(first.tar)).toBe(true);
    const headers = await tarHeader(first.tar);
    expect(headers.map((h) => `/${h.name.replace(/\/$/, "")}`)).toEqual(plan().map((e) => e.path));
    for (const header of headers) {
      expect([header.uid, header.gid, header.mtime?.getTime()], header.name).toEqual([0, 0, 0]);
    }
    expect(headers.find((h) => h.name === "usr/bin/node")?.mode).toBe(0o755);
  });

  it("refuses a host 'library' that is not a regular file", async () => {
    const host = fakeHost();
    const directory = join(host.dir, "libdir.so");
    mkdirSync(directory);
    const entries = planRootfs({
      bundle: Buffer.from(""),
      nodeBinary: host.node,
      sharedObjects: { loader: host.objects.loader, libraries: [directory] },
      caBundle: null,
    });
    await expect(writeRootfsTar(entries)).rejects.toThrow(
      `rootfs: ${directory} (for ${directory}) is not a regular file`,
    );
  });
});

describe("autoscaler image: the bundle", () => {
  it("inlines npm dependencies into one ES module", async () => {
    const dir = mkdtempSync(join(import.meta.dirname, ".bundle-"));
    try {
      writeFileSync(join(dir, "main.ts"), 'import { keccak256 } from "viem";\nconsole.log(keccak256("0x"));\n');
      const bundle = await bundleEntry(join(dir, "main.ts"));
      const code = Buffer.from(bundle.code).toString();
      expect(code).not.toMatch(/from\s*"viem"/);
      expect(bundle.inputs.some((input) => input.includes("node_modules/viem/"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a native addon, naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-bundle-"));
    writeFileSync(join(dir, "addon.node"), "\x7fELF");
    writeFileSync(join(dir, "main.js"), 'import addon from "./addon.node";\nconsole.log(addon);\n');
    await expect(bundleEntry(join(dir, "main.js"))).rejects.toThrow('native addon "./addon.node"');
  });
});
