import { keccak256, stringToBytes } from "viem";
import { describe, expect, it } from "vitest";
import { contentId } from "./content-id.js";
import {
  canonicalManifest,
  MAX_MANIFEST_BYTES,
  ManifestError,
  type ManifestIssue,
  manifestBlobs,
  manifestHash,
  manifestResources,
  parseManifest,
  podManifestJsonSchema,
} from "./manifest.js";

const cid = contentId(new TextEncoder().encode("x"));
const otherCid = contentId(new TextEncoder().encode("y"));
const digest = `sha256:${"ab".repeat(32)}`;

// Plain JSON, as a manifest arrives from a file: tests mutate it freely.
// biome-ignore lint/suspicious/noExplicitAny: manifests under test are untyped input, often deliberately invalid
type Json = any;

function minimal(): Json {
  return {
    version: 1,
    containers: [{ name: "web", image: `blob:${cid}`, resources: { cpuMillis: 250, memoryMiB: 64 } }],
  };
}

function explicit(): Json {
  return {
    version: 1,
    replicas: 1,
    containers: [
      {
        name: "web",
        image: `blob:${cid}`,
        env: {},
        resources: { cpuMillis: 250, memoryMiB: 64, storageMiB: 0, pids: 256 },
        mounts: [],
      },
    ],
    volumes: [],
    expose: { http: [], tcp: [] },
  };
}

/** The issues `parseManifest` reports for `input`; fails the test when it parses. */
function issues(input: unknown): ManifestIssue[] {
  try {
    parseManifest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).issues;
  }
  throw new Error("manifest was accepted");
}

/** The single issue reported for `input`. */
function issue(input: unknown): ManifestIssue {
  const found = issues(input);
  expect(found).toHaveLength(1);
  return found[0] as ManifestIssue;
}

function withContainer(change: (c: Json) => void): Json {
  const m = minimal();
  change(m.containers[0]);
  return m;
}

describe("parseManifest", () => {
  it("accepts a minimal manifest and writes out every default", () => {
    expect(parseManifest(minimal())).toEqual({
      version: 1,
      replicas: 1,
      containers: [
        {
          name: "web",
          image: `blob:${cid}`,
          env: {},
          resources: { cpuMillis: 250, memoryMiB: 64, storageMiB: 0, pids: 256 },
          mounts: [],
        },
      ],
      volumes: [],
      expose: { http: [], tcp: [] },
    });
  });

  it("accepts a full manifest: registry image by digest, volumes, mounts, exposed ports", () => {
    const m = minimal();
    m.replicas = 2;
    m.containers.push({
      name: "db",
      image: `registry.example.com:5000/team/postgres@${digest}`,
      command: ["postgres"],
      args: ["-c", "fsync=on"],
      env: { PGDATA: "/data/pg", _X1: "" },
      resources: { cpuMillis: 500, memoryMiB: 128, storageMiB: 10, pids: 100 },
      mounts: [
        { volume: "data", path: "/data" },
        { volume: "creds", path: "/run/secrets", readOnly: true },
      ],
    });
    m.volumes = [
      { type: "persistent", name: "data", sizeMiB: 100 },
      { type: "secret", name: "creds", files: [{ path: "db/password", blob: otherCid }] },
    ];
    m.expose = {
      http: [{ container: "web", port: 8080, host: "shop.example.com" }],
      tcp: [{ container: "db", port: 5432 }],
    };
    const parsed = parseManifest(m);
    expect(parsed.containers[1]?.mounts).toEqual([
      { volume: "data", path: "/data", readOnly: false },
      { volume: "creds", path: "/run/secrets", readOnly: true },
    ]);
    expect(parsed.expose.tcp).toEqual([{ container: "db", port: 5432 }]);
  });

  it("gives each parsed manifest its own default objects", () => {
    const first = parseManifest(minimal());
    first.expose.http.push({ container: "web", port: 80 });
    first.expose.tcp.push({ container: "web", port: 22 });
    first.volumes.push({ type: "empty", name: "tmp", sizeMiB: 1 });
    first.containers[0]?.mounts.push({ volume: "tmp", path: "/tmp", readOnly: false });
    const second = parseManifest(minimal());
    expect(second.expose).toEqual({ http: [], tcp: [] });
    expect(second.volumes).toEqual([]);
    expect(second.containers[0]?.mounts).toEqual([]);
  });
});

describe("manifestHash", () => {
  it("is the same for the minimal form and for every default spelled out", () => {
    expect(parseManifest(explicit())).toEqual(parseManifest(minimal()));
    expect(manifestHash(explicit())).toBe(manifestHash(minimal()));
  });

  it("does not depend on key order", () => {
    const reordered = {
      expose: { tcp: [], http: [] },
      containers: [{ resources: { memoryMiB: 64, cpuMillis: 250 }, image: `blob:${cid}`, name: "web" }],
      version: 1,
    };
    expect(manifestHash(reordered)).toBe(manifestHash(minimal()));
  });

  it("changes when a meaningful value changes", () => {
    const base = manifestHash(minimal());
    const two = (): Json => {
      const m = minimal();
      m.containers.push({ name: "api", image: `blob:${otherCid}`, resources: { cpuMillis: 250, memoryMiB: 64 } });
      return m;
    };
    const swapped = two();
    swapped.containers.reverse();
    const variants: Json[] = [
      withContainer((c) => {
        c.resources.cpuMillis = 251;
      }),
      withContainer((c) => {
        c.resources.pids = 255;
      }),
      withContainer((c) => {
        c.image = `blob:${otherCid}`;
      }),
      withContainer((c) => {
        c.env = { MODE: "a" };
      }),
      withContainer((c) => {
        c.name = "www";
      }),
      { ...minimal(), replicas: 2 },
      two(),
      swapped,
    ];
    const hashes = variants.map((v) => manifestHash(v));
    for (const hash of hashes) expect(hash).not.toBe(base);
    expect(new Set(hashes).size).toBe(hashes.length);

    const envA = withContainer((c) => {
      c.env = { MODE: "a" };
    });
    const envB = withContainer((c) => {
      c.env = { MODE: "b" };
    });
    expect(manifestHash(envA)).not.toBe(manifestHash(envB));
  });

  it("is 0x and 32 bytes of hex, the keccak256 of the canonical manifest", () => {
    const hash = manifestHash(minimal());
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(hash).toBe(keccak256(stringToBytes(canonicalManifest(parseManifest(minimal())))));
  });

  it("pins the canonical form (golden)", () => {
    // Written by hand: a change in field names, defaults or ordering must show up here.
    expect(cid).toBe("bafkreibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqe");
    const canonical =
      '{"containers":[{"env":{},"image":"blob:bafkreibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqe",' +
      '"mounts":[],"name":"web","resources":{"cpuMillis":250,"memoryMiB":64,"pids":256,"storageMiB":0}}],' +
      '"expose":{"http":[],"tcp":[]},"replicas":1,"version":1,"volumes":[]}';
    expect(canonicalManifest(parseManifest(minimal()))).toBe(canonical);
    expect(manifestHash(minimal())).toBe(keccak256(stringToBytes(canonical)));
    expect(manifestHash(minimal())).toBe("0x299418f5fd4487e0db74427471b6de8473d8465828ce8a74558d2a619d0b0a98");
  });

  it("refuses to hash an invalid manifest", () => {
    expect(() => manifestHash({ ...minimal(), version: 2 })).toThrow(ManifestError);
  });
});

describe("parseManifest errors", () => {
  it("refuses an unknown top-level field", () => {
    const found = issue({ ...minimal(), network: "host" });
    expect(found.path).toBe("manifest");
    expect(found.message).toContain("network");
  });

  it("refuses privileged containers as an unknown key", () => {
    const found = issue(
      withContainer((c) => {
        c.privileged = true;
      }),
    );
    expect(found).toEqual({ path: "containers[0]", message: expect.stringContaining("privileged") });
  });

  it("refuses hostNetwork and devices, at the top level and in a container", () => {
    const top = issue({ ...minimal(), hostNetwork: true, devices: ["/dev/kvm"] });
    expect(top.path).toBe("manifest");
    expect(top.message).toContain("hostNetwork");
    expect(top.message).toContain("devices");
    const inContainer = issue(
      withContainer((c) => {
        c.hostNetwork = true;
        c.devices = ["/dev/fuse"];
      }),
    );
    expect(inContainer.path).toBe("containers[0]");
    expect(inContainer.message).toContain("hostNetwork");
    expect(inContainer.message).toContain("devices");
  });

  it("refuses a host volume", () => {
    const found = issue({ ...minimal(), volumes: [{ type: "host", name: "root", path: "/" }] });
    expect(found.path).toBe("volumes[0].type");
    expect(found.message).toMatch(/empty.*persistent.*secret/);
  });

  it("refuses zero and negative CPU", () => {
    for (const cpuMillis of [0, -250]) {
      const found = issue(
        withContainer((c) => {
          c.resources.cpuMillis = cpuMillis;
        }),
      );
      expect(found.path).toBe("containers[0].resources.cpuMillis");
      expect(found.message).toMatch(/too small/i);
    }
  });

  it("refuses fractional and zero memory", () => {
    const fraction = issue(
      withContainer((c) => {
        c.resources.memoryMiB = 64.5;
      }),
    );
    expect(fraction.path).toBe("containers[0].resources.memoryMiB");
    expect(fraction.message).toMatch(/int/i);
    const zero = issue(
      withContainer((c) => {
        c.resources.memoryMiB = 0;
      }),
    );
    expect(zero.path).toBe("containers[0].resources.memoryMiB");
    expect(zero.message).toMatch(/at least 6/i);
  });

  it("refuses memory below the 6 MiB the Docker Engine can run (a lease for it could never start)", () => {
    const tiny = issue(
      withContainer((c) => {
        c.resources.memoryMiB = 5;
      }),
    );
    expect(tiny.path).toBe("containers[0].resources.memoryMiB");
    expect(tiny.message).toMatch(/6/);
  });

  it("refuses images that are not pinned by digest or are not a valid blob id", () => {
    const images = ["nginx:1.25", "nginx", `nginx@sha256:${"ab".repeat(31)}`, "blob:notacid", "blob:"];
    for (const image of images) {
      const found = issue(
        withContainer((c) => {
          c.image = image;
        }),
      );
      expect(found.path).toBe("containers[0].image");
      expect(found.message).toContain("digest");
    }
    expect(() =>
      parseManifest(
        withContainer((c) => {
          c.image = `nginx@${digest}`;
        }),
      ),
    ).not.toThrow();
  });

  it("refuses mount paths that are relative, climb, shadow runtime trees or are not normalised", () => {
    const cases: [string, RegExp][] = [
      ["data", /absolute/],
      ["/data/../etc", /'\.\.'/],
      ["/proc/x", /\/proc/],
      ["/sys", /\/sys/],
      ["/data/", /normalised/],
      ["/data//x", /normalised/],
      ["/", /normalised/],
    ];
    for (const [path, message] of cases) {
      const m = withContainer((c) => {
        c.mounts = [{ volume: "data", path }];
      });
      m.volumes = [{ type: "empty", name: "data", sizeMiB: 1 }];
      const found = issues(m);
      expect(found.map((i) => i.path)).toEqual(found.map(() => "containers[0].mounts[0].path"));
      expect(found.some((i) => message.test(i.message))).toBe(true);
    }
  });

  it("refuses a mount of an unknown volume", () => {
    const found = issue(
      withContainer((c) => {
        c.mounts = [{ volume: "nope", path: "/data" }];
      }),
    );
    expect(found).toEqual({ path: "containers[0].mounts[0].volume", message: "no volume named nope" });
  });

  it("refuses duplicate container names at the second one", () => {
    const m = minimal();
    m.containers.push({ ...m.containers[0] });
    expect(issue(m)).toEqual({ path: "containers[1].name", message: "duplicate web" });
  });

  it("refuses exposing a port of an unknown container", () => {
    const found = issue({ ...minimal(), expose: { http: [{ container: "api", port: 80 }] } });
    expect(found).toEqual({ path: "expose.http[0].container", message: "no container named api" });
  });

  it("refuses a custom http host used twice, at the index of the repeat", () => {
    const http = [
      { container: "web", port: 80 },
      { container: "web", port: 81, host: "shop.example.com" },
      { container: "web", port: 82, host: "shop.example.com" },
    ];
    expect(issue({ ...minimal(), expose: { http } })).toEqual({
      path: "expose.http[2].host",
      message: "duplicate host shop.example.com",
    });
  });

  it("refuses invalid environment variable names", () => {
    const found = issue(
      withContainer((c) => {
        c.env = { GOOD: "1", "1BAD": "x" };
      }),
    );
    expect(found.path).toBe("containers[0].env.1BAD");
    expect(found.message).toMatch(/key/i);
  });

  it("refuses other versions", () => {
    const found = issue({ ...minimal(), version: 2 });
    expect(found.path).toBe("version");
    expect(found.message).toContain("1");
    expect(issue({ containers: minimal().containers }).path).toBe("version");
  });

  it("refuses no containers and more than 16", () => {
    const empty = issue({ version: 1, containers: [] });
    expect(empty.path).toBe("containers");
    expect(empty.message).toMatch(/too small/i);
    const containers = Array.from({ length: 17 }, (_, i) => ({
      name: `c${i}`,
      image: `blob:${cid}`,
      resources: { cpuMillis: 1, memoryMiB: 6 },
    }));
    const tooMany = issue({ version: 1, containers });
    expect(tooMany.path).toBe("containers");
    expect(tooMany.message).toMatch(/too big/i);
    expect(() => parseManifest({ version: 1, containers: containers.slice(0, 16) })).not.toThrow();
  });

  it("refuses a manifest whose canonical form exceeds 64 KiB", () => {
    const containers = Array.from({ length: 3 }, (_, i) => ({
      name: `c${i}`,
      image: `blob:${cid}`,
      env: { BIG: "v".repeat(30 * 1024) },
      resources: { cpuMillis: 1, memoryMiB: 6 },
    }));
    const found = issue({ version: 1, containers });
    expect(found.path).toBe("manifest");
    expect(found.message).toContain("bytes");
    expect(found.message).toContain(String(MAX_MANIFEST_BYTES));
    expect(() => parseManifest({ version: 1, containers: containers.slice(0, 2) })).not.toThrow();
  });

  it("reports every bad field at once", () => {
    const m = withContainer((c) => {
      c.image = "nginx:latest";
      c.resources.cpuMillis = 0;
    });
    m.replicas = 0;
    const found = issues(m);
    expect(found.map((i) => i.path).sort()).toEqual([
      "containers[0].image",
      "containers[0].resources.cpuMillis",
      "replicas",
    ]);
    const error = (() => {
      try {
        parseManifest(m);
      } catch (e) {
        return e as ManifestError;
      }
    })();
    expect(error?.message).toContain("containers[0].resources.cpuMillis: ");
    expect(error?.name).toBe("ManifestError");
  });
});

describe("scaleToZero", () => {
  const web = (): Json => ({ ...minimal(), expose: { http: [{ container: "web", port: 8080 }] } });

  it("is optional: without it the canonical form and the spec hash are the ones of before (golden above)", () => {
    expect(parseManifest(web()).scaleToZero).toBeUndefined();
    expect(canonicalManifest(parseManifest(web()))).not.toContain("scaleToZero");
  });

  it("is part of the spec hash when given", () => {
    const sleepy = { ...web(), scaleToZero: { idleSeconds: 60 } };
    expect(parseManifest(sleepy).scaleToZero).toEqual({ idleSeconds: 60 });
    expect(manifestHash(sleepy)).not.toBe(manifestHash(web()));
    expect(manifestHash(sleepy)).not.toBe(manifestHash({ ...web(), scaleToZero: { idleSeconds: 61 } }));
  });

  it("accepts 1 s to a day of idle time, whole seconds only, naming the field otherwise", () => {
    expect(parseManifest({ ...web(), scaleToZero: { idleSeconds: 1 } }).scaleToZero?.idleSeconds).toBe(1);
    expect(parseManifest({ ...web(), scaleToZero: { idleSeconds: 86_400 } }).scaleToZero?.idleSeconds).toBe(86_400);
    for (const idleSeconds of [0, -1, 86_401, 1.5, "60"]) {
      expect(issue({ ...web(), scaleToZero: { idleSeconds } }).path).toBe("scaleToZero.idleSeconds");
    }
    expect(issue({ ...web(), scaleToZero: {} }).path).toBe("scaleToZero.idleSeconds");
    expect(issue({ ...web(), scaleToZero: { idleSeconds: 5, warm: true } }).path).toBe("scaleToZero");
  });

  it("refuses a pod with raw TCP exposes (a TCP connection cannot wake it) or with no HTTP expose", () => {
    const tcp = {
      ...web(),
      expose: { http: [{ container: "web", port: 8080 }], tcp: [{ container: "web", port: 5432 }] },
    };
    const found = issue({ ...tcp, scaleToZero: { idleSeconds: 5 } });
    expect(found.path).toBe("scaleToZero");
    expect(found.message).toContain("expose.tcp");
    expect(issue({ ...minimal(), scaleToZero: { idleSeconds: 5 } }).message).toContain("expose.http");
  });
});

describe("manifestResources", () => {
  it("sums containers and sized volumes, times the replicas", () => {
    const m = parseManifest({
      version: 1,
      replicas: 2,
      containers: [
        { name: "a", image: `blob:${cid}`, resources: { cpuMillis: 250, memoryMiB: 64, storageMiB: 10 } },
        { name: "b", image: `blob:${cid}`, resources: { cpuMillis: 500, memoryMiB: 128 } },
      ],
      volumes: [
        { type: "persistent", name: "data", sizeMiB: 100 },
        { type: "empty", name: "tmp", sizeMiB: 50 },
        { type: "secret", name: "creds", files: [{ path: "key", blob: otherCid }] },
      ],
    });
    expect(manifestResources(m)).toEqual({ cpuMillis: 1500, memoryMiB: 384, storageMiB: 320 });
  });

  it("counts a single replica once", () => {
    expect(manifestResources(parseManifest(minimal()))).toEqual({ cpuMillis: 250, memoryMiB: 64, storageMiB: 0 });
  });
});

describe("manifestBlobs", () => {
  it("lists image and secret blobs once each, and no registry images", () => {
    const m = parseManifest({
      version: 1,
      containers: [
        { name: "a", image: `blob:${cid}`, resources: { cpuMillis: 1, memoryMiB: 6 } },
        { name: "b", image: `blob:${cid}`, resources: { cpuMillis: 1, memoryMiB: 6 } },
        { name: "c", image: `nginx@${digest}`, resources: { cpuMillis: 1, memoryMiB: 6 } },
      ],
      volumes: [
        {
          type: "secret",
          name: "creds",
          files: [
            { path: "a", blob: otherCid },
            { path: "b", blob: cid },
          ],
        },
        { type: "secret", name: "more", files: [{ path: "c", blob: otherCid }] },
      ],
    });
    expect(manifestBlobs(m).sort()).toEqual([cid, otherCid].sort());
  });

  it("is empty for registry images only", () => {
    const m = withContainer((c) => {
      c.image = `nginx@${digest}`;
    });
    expect(manifestBlobs(parseManifest(m))).toEqual([]);
  });
});

describe("podManifestJsonSchema", () => {
  it("describes the manifest object and its containers", () => {
    const schema = podManifestJsonSchema() as Json;
    expect(schema.$schema).toContain("json-schema.org");
    expect(schema.type).toBe("object");
    expect(schema.properties.containers.type).toBe("array");
    expect(schema.properties.containers.maxItems).toBe(16);
    expect(schema.required).toEqual(expect.arrayContaining(["version", "containers"]));
    expect(schema.additionalProperties).toBe(false);
  });
});
