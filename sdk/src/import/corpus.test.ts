/**
 * The import corpus: Compose files and Akash SDLs in the shapes their documentation shows, each converted, its pod.yaml
 * and app.yaml checked by the pod and app schemas (as text, the way the files are written), and every warning and
 * error asserted with its line and column.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseAppYaml } from "../app-yaml.js";
import { parsePodSpec } from "../pod-spec.js";
import { parseAppConfig } from "../protocol/app-config.js";
import { importCompose } from "./compose.js";
import { importSdl, sdlPricePerSecond } from "./sdl.js";
import { ImportError, type ImportIssue, type ImportResult, PLACEHOLDER_DIGEST } from "./shared.js";

const corpus = join(import.meta.dirname, "corpus");
const read = (path: string) => readFileSync(path, "utf8");

function convert(kind: "compose" | "sdl", name: string): ImportResult {
  const file = join(corpus, kind, name);
  return kind === "compose" ? importCompose(read(file), { file, readFile: read }) : importSdl(read(file), { file });
}

/** `line:column path` of each issue: what the tests pin down (messages are checked where they matter). */
const where = (issues: ImportIssue[]) => issues.map((i) => `${i.line}:${i.column} ${i.path}`);

/** Converts, and checks the result against the pod (and app) schema as the written files. */
function valid(kind: "compose" | "sdl", name: string) {
  const result = convert(kind, name);
  const pod = parsePodSpec(stringify(result.podYaml), "pod.yaml");
  const app = result.appYaml ? parseAppYaml(stringify(result.appYaml), "app.yaml") : undefined;
  return { result, pod, app };
}

function refused(kind: "compose" | "sdl", name: string): ImportError {
  try {
    convert(kind, name);
  } catch (error) {
    expect(error).toBeInstanceOf(ImportError);
    const e = error as ImportError;
    expect(e.issues.every((i) => i.file === join(corpus, kind, name))).toBe(true);
    return e;
  }
  throw new Error(`${name} converted, but it should have been refused`);
}

describe("importCompose over the corpus", () => {
  it("web + redis: two containers, the web port as HTTP, numbers in env as strings", () => {
    const { result, pod } = valid("compose", "web-redis.yml");
    expect(pod.containers.map((c) => c.name)).toEqual(["web", "redis"]);
    expect(pod.containers[0]?.env).toEqual({ REDIS_HOST: "redis", REDIS_PORT: "6379" });
    expect(pod.containers[0]?.resources).toMatchObject({ cpuMillis: 250, memoryMiB: 256 });
    expect(pod.expose).toEqual({ http: [{ container: "web", port: 5000 }], tcp: [] });
    expect(pod.containers[1]?.image).toBe(`redis@${PLACEHOLDER_DIGEST}`);
    expect(result.placeholders.map((p) => [p.path, p.source, p.line])).toEqual([
      ["containers[0].image", "registry.example/acme/counter:1.4", 4],
      ["containers[1].image", "redis:7-alpine", 13],
    ]);
    expect(result.appYaml).toBeUndefined();
    expect(where(result.warnings)).toEqual([
      "4:12 services.web.image",
      "6:9 services.web.ports",
      "10:5 services.web.depends_on",
      "13:12 services.redis.image",
    ]);
    expect(result.warnings[0]?.message).toContain("podnet image add registry.example/acme/counter:1.4 --set pod.yaml");
    expect(result.warnings[1]?.message).toBe("host port 8000 dropped: the provider allocates the public port");
  });

  it("wordpress + mysql: named volumes persistent, secrets as secret volumes under /run/secrets", () => {
    const { result, pod } = valid("compose", "wordpress-mysql.yml");
    expect(pod.volumes.map((v) => [v.type, v.name])).toEqual([
      ["persistent", "db-data"],
      ["secret", "db-secrets"],
      ["persistent", "wp-data"],
      ["secret", "wordpress-secrets"],
    ]);
    const db = pod.volumes[1];
    expect(db?.type === "secret" && db.files.map((f) => f.path)).toEqual(["db_root_password", "db_password"]);
    expect(pod.containers[0]?.mounts).toEqual([
      { volume: "db-data", path: "/var/lib/mysql", readOnly: false },
      { volume: "db-secrets", path: "/run/secrets", readOnly: true },
    ]);
    expect(pod.expose.http).toEqual([{ container: "wordpress", port: 80 }]);
    expect(result.placeholders.filter((p) => p.kind === "secret").map((p) => [p.path, p.fix])).toEqual([
      ["volumes[1].files[0].blob", "podnet secret add db_root_password --value-file db_root_password.txt"],
      ["volumes[1].files[1].blob", "podnet secret add db_password --value-file db_password.txt"],
      ["volumes[3].files[0].blob", "podnet secret add db_password --value-file db_password.txt"],
    ]);
    // The declared file, so that `podnet up` can encrypt it by itself.
    expect(result.placeholders.filter((p) => p.kind === "secret").map((p) => p.file)).toEqual([
      "db_root_password.txt",
      "db_password.txt",
      "db_password.txt",
    ]);
    expect(where(result.warnings)).toEqual([
      "4:12 services.db.image",
      "13:9 services.db.secrets",
      "14:9 services.db.secrets",
      "16:12 services.wordpress.image",
      "17:5 services.wordpress.depends_on",
      "20:9 services.wordpress.ports",
      "28:9 services.wordpress.secrets",
    ]);
  });

  it("env_file: read beside the compose file, environment wins, a missing optional file and a host variable warned", () => {
    const { result, pod } = valid("compose", "env-file.yml");
    expect(pod.containers[0]?.env).toEqual({
      LOG_LEVEL: "debug",
      DATABASE_URL: "postgres://db:5432/app",
      FEATURE_X: "on",
    });
    expect(pod.containers[0]?.args).toEqual(["node", "server.js", "--port", "3000"]);
    // Already pinned by digest: kept, no placeholder.
    expect(pod.containers[0]?.image).toMatch(/^ghcr\.io\/acme\/api@sha256:4d20/);
    expect(result.placeholders).toEqual([]);
    expect(pod.expose.http).toEqual([{ container: "api", port: 3000 }]);
    expect(where(result.warnings)).toEqual(["6:9 services.api.env_file", "10:9 services.api.environment.FROM_HOST"]);
  });

  it("env_file without a file reader is an error, not a silent skip", () => {
    const file = join(corpus, "compose", "env-file.yml");
    expect(() => importCompose(read(file), { file })).toThrow(
      /env-file\.yml:5:9 services\.api\.env_file: \.\/common\.env: cannot be read/,
    );
  });

  it("ports, long syntax: app_protocol http and well-known ports HTTP, the rest TCP, host ports and addresses dropped", () => {
    const { result, pod } = valid("compose", "ports-long.yml");
    expect(pod.expose.http.map((e) => e.port)).toEqual([80, 9000]);
    expect(pod.expose.tcp.map((e) => e.port)).toEqual([2019, 5432]);
    expect(where(result.warnings)).toEqual([
      "3:12 services.proxy.image",
      "5:9 services.proxy.ports",
      "9:9 services.proxy.ports",
      "12:9 services.proxy.ports",
      "16:9 services.proxy.ports",
    ]);
  });

  it("deploy: limits become resources (over reservations), replicas an app.yaml", () => {
    const { result, pod, app } = valid("compose", "deploy-replicas.yml");
    expect(pod.containers[0]?.resources).toMatchObject({ cpuMillis: 500, memoryMiB: 512 });
    expect(pod.replicas).toBe(1);
    expect(app?.instances).toEqual({ target: 3, min: 1, maxPerProvider: 1 });
    expect(app?.health).toMatchObject({ type: "http", path: "/" });
    expect(where(result.warnings)).toEqual([
      "3:12 services.api.image",
      "5:9 services.api.ports",
      "7:7 services.api.deploy.replicas",
      "12:9 services.api.deploy.resources.reservations",
      "15:7 services.api.deploy.restart_policy",
    ]);
  });

  it("tmpfs (service key and volume type) and anonymous volumes become empty volumes, sizes kept", () => {
    const { result, pod } = valid("compose", "tmpfs.yml");
    expect(pod.volumes.map((v) => [v.type, v.name, "sizeMiB" in v ? v.sizeMiB : 0])).toEqual([
      ["empty", "tmp-tmp", 64],
      ["empty", "tmp-run", 64],
      ["empty", "tmp-cache", 100],
      ["empty", "tmp-scratch", 1024],
    ]);
    expect(pod.containers[0]?.mounts.map((m) => m.path)).toEqual(["/tmp", "/run", "/cache", "/scratch"]);
    expect(pod.containers[0]?.command).toEqual(["/app/start", "--fast"]);
    expect(pod.containers[0]?.readOnlyRootfs).toBe(true);
    expect(pod.containers[0]?.ulimits).toEqual({ nofile: 8192 });
    expect(where(result.warnings)).toEqual(["3:12 services.app.image", "19:7 services.app.ulimits.nproc"]);
  });

  it("dropped keys each warn at their line, merged (<<) ones at the anchor's; service-level cpus/mem_limit/pids_limit kept", () => {
    const { result, pod } = valid("compose", "dropped-keys.yml");
    expect(pod.containers[0]?.name).toBe("shop-front");
    expect(pod.containers[0]?.resources).toMatchObject({ cpuMillis: 1500, memoryMiB: 1024, pids: 512 });
    expect(where(result.warnings)).toEqual([
      "4:3 services.shop_front.restart",
      "5:3 services.shop_front.logging",
      "8:3 services.shop_front",
      "10:12 services.shop_front.image",
      "11:5 services.shop_front.container_name",
      "12:5 services.shop_front.healthcheck",
      "14:5 services.shop_front.extra_hosts",
      "16:5 services.shop_front.user",
      "17:5 services.shop_front.working_dir",
      "18:5 services.shop_front.networks",
      "19:13 services.shop_front.ports",
      "23:1 networks",
    ]);
  });

  it("build: is refused", () => {
    const e = refused("compose", "build.yml");
    expect(where(e.issues)).toEqual(["3:5 services.web.build"]);
    expect(e.message).toContain("build.yml:3:5 services.web.build: not supported: pods run images");
    expect(where(e.warnings)).toEqual(["5:9 services.web.ports"]);
  });

  it("privileged, cap_add and devices are refused", () => {
    const e = refused("compose", "privileged.yml");
    expect(where(e.issues)).toEqual([
      "4:5 services.agent.privileged",
      "5:5 services.agent.cap_add",
      "7:5 services.agent.devices",
    ]);
  });

  it("bind mounts (short and long syntax) are refused", () => {
    const e = refused("compose", "bind-mount.yml");
    expect(where(e.issues)).toEqual(["5:9 services.web.volumes", "6:9 services.web.volumes"]);
    expect(e.issues[1]?.message).toContain("/var/run/docker.sock:/var/run/docker.sock: bind mounts reach the host");
  });

  it("host networking, host PID and sysctls are refused", () => {
    const e = refused("compose", "network-host.yml");
    expect(where(e.issues)).toEqual([
      "4:5 services.exporter.network_mode",
      "5:5 services.exporter.pid",
      "6:5 services.exporter.sysctls",
    ]);
  });
});

describe("importSdl over the corpus", () => {
  it("a simple web: port 80 global is HTTP, the profile the resources, the pricing a price cap", () => {
    const { result, pod } = valid("sdl", "simple-web.yaml");
    expect(pod.containers[0]?.resources).toMatchObject({ cpuMillis: 500, memoryMiB: 512, storageMiB: 512 });
    expect(pod.expose).toEqual({ http: [{ container: "web", port: 80 }], tcp: [] });
    expect(importSdl(read(join(corpus, "sdl", "simple-web.yaml"))).priceCap).toEqual({
      denom: "uakt",
      amountPerBlock: "1000",
      line: 25,
    });
    expect(where(result.warnings)).toEqual(["5:12 services.web.image", "25:11 profiles.placement.dcloud.pricing.web"]);
  });

  it("multi-service: global HTTP with an accepted host, a global TCP port, service-only exposes need nothing", () => {
    const { result, pod } = valid("sdl", "multi-service.yaml");
    expect(pod.containers.map((c) => c.name)).toEqual(["frontend", "api", "db"]);
    expect(pod.expose).toEqual({
      http: [{ container: "frontend", port: 8080, host: "shop.example.com" }],
      tcp: [{ container: "db", port: 5432 }],
    });
    expect(pod.containers[1]).toMatchObject({ command: ["node"], args: ["server.js"] });
    expect(importSdl(read(join(corpus, "sdl", "multi-service.yaml"))).priceCap?.amountPerBlock).toBe("600");
    expect(where(result.warnings)).toEqual([
      "5:12 services.frontend.image",
      "16:12 services.api.image",
      "21:5 services.api.depends_on",
      "28:12 services.db.image",
      "56:7 profiles.placement.akash.attributes",
      "59:19 profiles.placement.akash.pricing.frontend",
    ]);
  });

  it("price conversion: exact, rounded down, into app.yaml with a deposit that fits; bad rates refused by name", () => {
    // 500 uakt per block × 3.25 base units per uakt ÷ 6 s = 270.83… → 270 base units/s.
    expect(sdlPricePerSecond({ amountPerBlock: "500" }, { baseUnitsPerDenom: "3.25" })).toBe(270n);
    expect(sdlPricePerSecond({ amountPerBlock: "12.5" }, { baseUnitsPerDenom: "1000", blockSeconds: "6.25" })).toBe(
      2000n,
    );
    // Amounts too large for a float stay exact.
    expect(
      sdlPricePerSecond({ amountPerBlock: "123456789012345678901" }, { baseUnitsPerDenom: "1", blockSeconds: "1" }),
    ).toBe(123456789012345678901n);
    expect(() => sdlPricePerSecond({ amountPerBlock: "1" }, { baseUnitsPerDenom: "0.5" })).toThrow(
      /baseUnitsPerDenom: 1 per block at this rate is below 1 token base unit per second/,
    );
    expect(() => sdlPricePerSecond({ amountPerBlock: "1" }, { baseUnitsPerDenom: "1e3" })).toThrow(
      /baseUnitsPerDenom: "1e3" is not a decimal number/,
    );
    expect(() => sdlPricePerSecond({ amountPerBlock: "1" }, { baseUnitsPerDenom: "1", blockSeconds: "0" })).toThrow(
      /blockSeconds: must be above 0/,
    );
    // count 3 at 500 uakt per block, 1 base unit per uakt, 5 s blocks: 100 base units/s; the deposit keeps a day.
    const converted = importSdl(read(join(corpus, "sdl", "count.yaml")), {
      priceRate: { baseUnitsPerDenom: "1", blockSeconds: "5" },
    });
    expect(converted.maxPricePerSecond).toBe(100n);
    expect(converted.appYaml).toMatchObject({ price: { maxPerInstance: "100" } });
    expect(parseAppConfig(converted.appYaml).funding.depositPerLease).toBe(86_400_000n);
    const pricey = importSdl(read(join(corpus, "sdl", "count.yaml")), {
      priceRate: { baseUnitsPerDenom: "100", blockSeconds: "5" },
    });
    expect(parseAppConfig(pricey.appYaml).funding.depositPerLease).toBe(10_000n * 86_400n);
    // Converted, the "not converted" warning is gone.
    expect(converted.warnings.some((w) => w.message.includes("give an exchange rate"))).toBe(false);
  });

  it("pricing: decimal amounts and IBC denominations kept exactly; decimal units (1G) read as 10^9 bytes", () => {
    const { result, pod } = valid("sdl", "pricing.yaml");
    expect(pod.containers[0]?.resources).toMatchObject({ cpuMillis: 1500, memoryMiB: 954, storageMiB: 954 });
    const cap = importSdl(read(join(corpus, "sdl", "pricing.yaml"))).priceCap;
    expect(cap?.amountPerBlock).toBe("12.5");
    expect(cap?.denom).toMatch(/^ibc\/170C/);
    expect(where(result.warnings)).toEqual([
      "7:9 services.app.expose",
      "25:7 profiles.placement.westcoast.signedBy",
      "30:11 profiles.placement.westcoast.pricing.app",
    ]);
  });

  it("persistent storage: a persistent volume, RAM storage an empty one, the unnamed size the container's storage", () => {
    const { result, pod } = valid("sdl", "persistent-storage.yaml");
    expect(pod.volumes).toEqual([
      { type: "persistent", name: "postgres-data", sizeMiB: 10240 },
      { type: "empty", name: "postgres-shm", sizeMiB: 256 },
    ]);
    expect(pod.containers[0]?.mounts.map((m) => [m.volume, m.path])).toEqual([
      ["postgres-data", "/var/lib/postgresql/data"],
      ["postgres-shm", "/var/cache/pg"],
    ]);
    expect(pod.containers[0]?.resources.storageMiB).toBe(512);
    expect(pod.expose.tcp).toEqual([{ container: "postgres", port: 5432 }]);
    expect(where(result.warnings)).toEqual([
      "5:12 services.postgres.image",
      "45:11 profiles.placement.akash.pricing.postgres",
    ]);
  });

  it("count > 1: an app.yaml with that many instances", () => {
    const { result, app } = valid("sdl", "count.yaml");
    expect(app?.instances.target).toBe(3);
    expect(where(result.warnings)).toEqual([
      "5:12 services.api.image",
      "29:11 profiles.placement.akash.pricing.api",
      "33:5 deployment.api.akash.count",
    ]);
  });

  it("a global UDP port is refused", () => {
    const e = refused("sdl", "udp.yaml");
    expect(where(e.issues)).toEqual(["7:9 services.dns.expose"]);
    expect(e.issues[0]?.message).toBe("53/udp: pods expose TCP and HTTP only");
  });
});

describe("hostile or broken sources", () => {
  it("YAML syntax errors and duplicate keys point at their line", () => {
    expect(() => importCompose("services:\n  web:\n    image: a\n    image: b\n", { file: "c.yml" })).toThrow(
      /^c\.yml:4:5 file: /,
    );
  });

  it("anchors and aliases are followed; an alias bomb and an oversized file are refused", () => {
    const text =
      "x-img: &img nginx:1.2\nx-env: &env {A: 1}\nservices:\n  a: {image: *img, environment: *env}\n  b: {image: *img}\n";
    const { podYaml } = importCompose(text);
    expect(parsePodSpec(stringify(podYaml)).containers.map((c) => [c.image.split("@")[0], c.env])).toEqual([
      ["nginx", { A: "1" }],
      ["nginx", {}],
    ]);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++)
      bomb.push(`${"bcdefghi"[i]}: &${"bcdefghi"[i]} [${Array(10).fill(`*${"abcdefgh"[i]}`).join(", ")}]`);
    expect(() => importCompose(`${bomb.join("\n")}\nservices: {}\n`, { file: "c.yml" })).toThrow(
      /^c\.yml:1:1 file: .*alias/i,
    );
    expect(() => importSdl("#".repeat(1024 * 1024 + 1), { file: "d.yaml" })).toThrow(/^d\.yaml:1:1 file: larger than/);
  });

  it("unknown keys of long-syntax secrets and volumes are warnings, not silently dropped", () => {
    const text = [
      "services:",
      "  db:",
      `    image: postgres@sha256:${"a".repeat(64)}`,
      "    secrets:",
      "      - source: pw",
      "        target: pw.txt",
      "        mode: 0440",
      "    volumes:",
      "      - type: volume",
      "        source: data",
      "        target: /var/lib/postgresql/data",
      "        volume: {subpath: pg}",
      "secrets:",
      "  pw: {file: ./pw.txt}",
      "volumes:",
      "  data: {}",
      "",
    ].join("\n");
    const { podYaml, warnings } = importCompose(text, { file: "c.yml" });
    parsePodSpec(stringify(podYaml));
    expect(warnings.map((w) => `${w.line}:${w.column} ${w.path}: ${w.message}`)).toEqual([
      "5:9 services.db.secrets.mode: dropped: not supported",
      "5:9 services.db.secrets: secret pw: pod.yaml gets a placeholder blob; run `podnet secret add pw.txt --value-file ./pw.txt` and put its blob id there",
      "9:9 services.db.volumes.volume: dropped: not supported",
    ]);
  });

  it("a source value past the pod's limits is reported at its service", () => {
    const text =
      "services:\n  web:\n    image: nginx\n    deploy:\n      resources:\n        limits:\n          memory: 1k\n";
    expect(() => importCompose(text, { file: "c.yml" })).toThrow(
      /c\.yml:2:3 containers\[0\]\.resources\.memoryMiB: pod\.yaml/,
    );
  });
});
