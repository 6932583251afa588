/**
 * `podnet import compose|sdl` in process, through the CLI's own `main` (argument parsing, errors, exit codes), on
 * files in a fresh folder: what it writes, what it refuses, and that a refused source writes nothing.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { parseAppYaml } from "../../app-yaml.js";
import { parsePodSpec } from "../../pod-spec.js";
import { main } from "../main.js";

const corpus = join(import.meta.dirname, "..", "..", "import", "corpus");
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "podnet-import-"));
});

async function podnet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    stdout: { write: (c: string) => out.push(c) > 0 } as unknown as NodeJS.WritableStream,
    stderr: { write: (c: string) => err.push(c) > 0 },
    stdin: process.stdin,
    env: { HOME: dir },
    cwd: dir,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

function copy(kind: "compose" | "sdl", name: string, ...more: string[]): void {
  for (const f of [name, ...more]) copyFileSync(join(corpus, kind, f), join(dir, f));
}

describe("podnet import", () => {
  it("compose: writes pod.yaml beside the file, placeholders commented, warnings on stderr with file:line", async () => {
    copy("compose", "wordpress-mysql.yml");
    const run = await podnet(["import", "compose", "wordpress-mysql.yml"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^wrote pod\.yaml\n/);
    expect(run.stderr).toContain("warning: wordpress-mysql.yml:17:5 services.wordpress.depends_on: dropped:");
    const text = readFileSync(join(dir, "pod.yaml"), "utf8");
    expect(text).toContain("# placeholder for mysql:8.0 (wordpress-mysql.yml:4): podnet image add mysql:8.0");
    expect(text).toContain("# placeholder for db_password (wordpress-mysql.yml:14): podnet secret add db_password");
    expect(parsePodSpec(text).containers).toHaveLength(2);
    expect(existsSync(join(dir, "app.yaml"))).toBe(false);
  });

  it("compose with env_file: reads it relative to the file", async () => {
    copy("compose", "env-file.yml", "common.env");
    const run = await podnet(["import", "compose", "env-file.yml", "--out", "out"]);
    expect(run.code).toBe(0);
    expect(parsePodSpec(readFileSync(join(dir, "out", "pod.yaml"), "utf8")).containers[0]?.env.DATABASE_URL).toBe(
      "postgres://db:5432/app",
    );
  });

  it("sdl with count > 1: pod.yaml and app.yaml into --out, both valid", async () => {
    copy("sdl", "count.yaml");
    const run = await podnet(["import", "sdl", "count.yaml", "--out", "deploy"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("wrote deploy/pod.yaml\nwrote deploy/app.yaml\n");
    expect(run.stdout).toContain("price cap in the source: 500 uakt per block");
    expect(run.stdout).toContain(
      "containers[0].image: podnet image add registry.example/acme/api:3 --set deploy/pod.yaml",
    );
    parsePodSpec(readFileSync(join(dir, "deploy", "pod.yaml"), "utf8"));
    expect(parseAppYaml(readFileSync(join(dir, "deploy", "app.yaml"), "utf8")).instances.target).toBe(3);
  });

  it("sdl --rate converts the price cap into app.yaml; a bad rate or --block-time alone is a usage error", async () => {
    copy("sdl", "count.yaml");
    for (const [args, message] of [
      [["--rate", "abc"], /--rate: "abc" is not a decimal number/],
      [["--rate", "0.001"], /--rate: 500 per block at this rate is below 1 token base unit per second/],
      [["--block-time", "5"], /--block-time: only with --rate/],
    ] as const) {
      const refused = await podnet(["import", "sdl", "count.yaml", ...args]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(message);
      expect(readdirSync(dir)).toEqual(["count.yaml"]);
    }
    const run = await podnet(["import", "sdl", "count.yaml", "--rate", "2", "--block-time", "5", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).maxPricePerSecond).toBe("200");
    expect(parseAppYaml(readFileSync(join(dir, "app.yaml"), "utf8")).price.maxPerInstance).toBe(200n);
  });

  it("refuses to overwrite pod.yaml or app.yaml without --force, and writes neither", async () => {
    copy("compose", "deploy-replicas.yml");
    writeFileSync(join(dir, "app.yaml"), "mine\n");
    const refused = await podnet(["import", "compose", "deploy-replicas.yml"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("error: app.yaml: already exists; not overwriting it (--force does)");
    expect(existsSync(join(dir, "pod.yaml"))).toBe(false);
    expect(readFileSync(join(dir, "app.yaml"), "utf8")).toBe("mine\n");
    const forced = await podnet(["import", "compose", "deploy-replicas.yml", "--force"]);
    expect(forced.code).toBe(0);
    expect(parseAppYaml(readFileSync(join(dir, "app.yaml"), "utf8")).instances.target).toBe(3);
  });

  it("exits 2 on errors, printing each with file:line, and writes nothing", async () => {
    copy("compose", "privileged.yml");
    const run = await podnet(["import", "compose", "privileged.yml", "--out", "out"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "privileged.yml:4:5 services.agent.privileged: not supported: pods never run privileged",
    );
    expect(run.stderr).toContain("privileged.yml:5:5 services.agent.cap_add:");
    expect(run.stderr).toContain("warning: privileged.yml:3:12 services.agent.image:");
    expect(readdirSync(dir)).toEqual(["privileged.yml"]);
  });

  it("names a missing file, and wants exactly one", async () => {
    expect((await podnet(["import", "sdl", "nope.yaml"])).stderr).toContain("nope.yaml: cannot read it (no such file)");
    expect((await podnet(["import", "sdl"])).code).toBe(2);
  });
});
