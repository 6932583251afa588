/**
 * The watched `npm install` of `npm test` and setup (script/toolchain/npm-install.sh). A CI run (stop 41) hung in npm
 * install until its 90 minutes were up: a registry that stops answering is a fault this machine cannot cause at will,
 * so `npm` here is a stand-in on PATH that plays one behaviour per call (hang, print forever, fail, succeed) and records
 * its arguments.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { procStat, repoRoot, runCommand } from "@podnet/devnet";
import { describe, expect, it } from "vitest";

const script = join(repoRoot, "script", "toolchain", "npm-install.sh");

/**
 * The stand-in: call N plays the Nth word of $STUB_PLAN. Each call first notes its arguments and whether node_modules
 * was there (what an earlier attempt left); `hang` leaves a half-unpacked package behind, and `hang` and `chatter` a
 * child asleep whose pid they write (two minutes: what a broken script fails to stop ends by itself).
 */
const STUB = `#!/usr/bin/env bash
dir=$(dirname "$0")
n=$(( $(cat "$dir/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$dir/count"
echo "$*" >> "$dir/calls"
if [ -d node_modules ]; then echo "call $n: node_modules present" >> "$dir/calls"; fi
read -ra plan <<< "$STUB_PLAN"
case "\${plan[$((n - 1))]}" in
  hang)
    mkdir -p node_modules/half && echo '{}' > node_modules/half/package.json
    echo "npm http fetch GET 200 https://registry.npmjs.org/a 10ms"
    sleep 120 & echo $! > "$dir/child-$n"
    wait ;;
  chatter)
    sleep 120 & echo $! > "$dir/child-$n"
    for _ in $(seq 600); do echo "npm http fetch GET 200 https://registry.npmjs.org/b 1ms"; sleep 0.2; done ;;
  fail) echo "npm error code E404"; exit 7 ;;
  ok)
    mkdir -p node_modules/pkg
    echo "npm http fetch GET 200 https://registry.npmjs.org/pkg 12ms"
    echo "npm http fetch GET 200 https://registry.npmjs.org/pkg/-/pkg-1.0.0.tgz 30ms"
    echo "added 1 package in 0s" ;;
esac
`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** The stand-in's arguments and notes, one line each. */
  calls: string[];
  project: string;
  stubDir: string;
}

async function install(plan: string, env: Record<string, string> = {}): Promise<Run> {
  const stubDir = mkdtempSync(join(tmpdir(), "podnet-npm-stub-"));
  writeFileSync(join(stubDir, "npm"), STUB);
  chmodSync(join(stubDir, "npm"), 0o755);
  const project = mkdtempSync(join(tmpdir(), "podnet-npm-project-"));
  mkdirSync(join(project, "sdk"));
  const started = performance.now();
  const { code, stdout, stderr } = await runCommand("bash", [script, "--no-save"], {
    cwd: project,
    env: {
      PATH: `${stubDir}:${process.env.PATH}`,
      HOME: project,
      STUB_PLAN: plan,
      PODNET_NPM_STALL_S: "1",
      PODNET_NPM_LIMIT_S: "30",
      ...env,
    },
  });
  const calls = existsSync(join(stubDir, "calls"))
    ? readFileSync(join(stubDir, "calls"), "utf8").trim().split("\n")
    : [];
  return { status: code, stdout, stderr, seconds: (performance.now() - started) / 1000, calls, project, stubDir };
}

/** Whether the process the stand-in's call `n` left asleep still runs. */
function childAlive(run: Run, n: number): boolean {
  return alive(Number(readFileSync(join(run.stubDir, `child-${n}`), "utf8")));
}

/** Whether `pid` runs: a zombie (ended, not yet reaped by whoever inherited it) does not. */
function alive(pid: number): boolean {
  const state = procStat(pid, [3])?.[0];
  return state !== undefined && state !== "Z";
}

// Concurrent: each test mostly waits out its stand-in's quiet second (10 s one after the other, 4 s together); each
// has its own directories. Hence the context's expect.
describe.concurrent("npm-install.sh", () => {
  it("stops an install that goes quiet, with what it started, and tries again from a clean node_modules", async ({
    expect,
  }) => {
    const run = await install("hang ok");
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain("attempt 1 of 3: stopped, no output for 1 s");
    expect(run.stderr).toContain("registry.npmjs.org/a"); // the stopped attempt's last lines
    expect(childAlive(run, 1)).toBe(false);
    expect(run.calls).toEqual([
      "install --loglevel=http --fetch-timeout=120000 --fetch-retries=4 --no-save",
      "install --loglevel=http --fetch-timeout=120000 --fetch-retries=4 --no-save",
    ]);
    expect(existsSync(join(run.project, "node_modules", "half"))).toBe(false);
    expect(existsSync(join(run.project, "node_modules", "pkg"))).toBe(true);
    // npm's own lines kept; the request lines only counted.
    expect(run.stdout).toBe("added 1 package in 0s\n(2 registry requests)\n");
  });

  it("gives up after its attempts, the last with an empty cache, and says what to check", async ({ expect }) => {
    const run = await install("hang hang hang");
    expect(run.status).toBe(1);
    expect(run.calls.filter((line) => line.startsWith("install"))).toHaveLength(3);
    expect(run.calls[0]).not.toContain("--cache");
    expect(run.calls.at(-1)).toMatch(/--cache \S*podnet-npm-cache\./);
    expect(run.stderr).toContain("npm install did not finish in 3 attempts: is the npm registry reachable?");
    for (const n of [1, 2, 3]) expect(childAlive(run, n)).toBe(false);
    // Three quiet seconds and the stops' grace, not npm's hour.
    expect(run.seconds).toBeLessThan(20);
  });

  it("stops an attempt that keeps printing past its time limit", async ({ expect }) => {
    const run = await install("chatter ok", { PODNET_NPM_LIMIT_S: "2", PODNET_NPM_STALL_S: "30" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain("attempt 1 of 3: stopped, still running after 2 s");
    expect(childAlive(run, 1)).toBe(false);
  });

  it("does not retry an install that fails by itself, and shows npm's output", async ({ expect }) => {
    const run = await install("fail ok");
    expect(run.status).toBe(7);
    expect(run.calls).toHaveLength(1);
    expect(run.stderr).toContain("npm error code E404");
    expect(run.stderr).toContain("npm install failed (exit 7; above)");
  });

  it("refuses a setting that is not a whole number, naming it, before running npm", async ({ expect }) => {
    const run = await install("ok", { PODNET_NPM_STALL_S: "soon" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("PODNET_NPM_STALL_S must be a whole number above 0 (got 'soon')");
    expect(run.calls).toEqual([]);
  });
});

describe("stop_tree (script/toolchain/process-tree.sh)", () => {
  it("kills, after its grace, a tree that ignores TERM, grandchildren included", async () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-stop-tree-"));
    // A parent that ignores TERM, with a child that ignores it too and a grandchild that does not.
    const tree = `trap '' TERM; bash -c "trap '' TERM; sleep 120 & echo \\$! > ${dir}/grandchild; wait" & echo $! > ${dir}/child; wait`;
    const started = performance.now();
    const result = spawnSync(
      "bash",
      [
        "-c",
        `source ${JSON.stringify(join(repoRoot, "script", "toolchain", "process-tree.sh"))}
bash -c ${JSON.stringify(tree)} &
pid=$!
sleep 0.5
stop_tree "$pid" 1
echo "$pid" > ${dir}/parent`,
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const seconds = (performance.now() - started) / 1000;
    for (const name of ["parent", "child", "grandchild"]) {
      expect(alive(Number(readFileSync(join(dir, name), "utf8"))), name).toBe(false);
    }
    // The grace was waited (TERM ignored), but not much more.
    expect(seconds).toBeGreaterThan(1.4);
    expect(seconds).toBeLessThan(5);
  });
});
