import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../log.js";
import { type AddonSpec, AddonSupervisor, type RestartPolicy } from "./addon-supervisor.js";
import { AdminTokens } from "./tokens.js";

// Real child processes (node + tsx, as the worker starts its addons), small scripts written per test: restarts and
// their backoff, the token's life, the environment an addon gets, and its log lines in the worker's log.

let dir: string;
let tokens: AdminTokens;
let lines: Record<string, unknown>[];
let supervisor: AddonSupervisor | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "podnet-addons-"));
  tokens = new AdminTokens(dir);
  lines = [];
  supervisor = undefined;
});

afterEach(async () => {
  await supervisor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function addon(name: string, source: string, env: Record<string, string> = {}): AddonSpec {
  const script = join(dir, `${name}.mjs`);
  writeFileSync(script, source);
  return { name, script, scopes: ["read"], env };
}

function start(specs: AddonSpec[], policy: Partial<RestartPolicy> = {}) {
  const log = createLogger("debug", (line) => lines.push(JSON.parse(line)));
  supervisor = new AddonSupervisor(tokens, () => "http://127.0.0.1:1", log, {
    restart: true,
    delayMs: 100,
    maxDelayMs: 800,
    ...policy,
  });
  supervisor.start(specs);
  return supervisor;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Keeps the child alive until it is killed (or its stdin closes). */
const STAY = "setInterval(() => {}, 1000); process.stdin.on('end', () => process.exit(0)); process.stdin.resume();";

describe("addon supervisor", () => {
  it("restarts a crashing addon with a doubling delay, not in a hot loop", async () => {
    const s = start([addon("crasher", "process.exit(1);")]);
    await sleep(4000);
    const [status] = s.list();
    // Delays 100, 200, 400, 800, 800...: about 5 restarts in 4 s (plus each start's own ~0.3 s), never dozens.
    expect(status?.restarts).toBeGreaterThanOrEqual(2);
    expect(status?.restarts).toBeLessThanOrEqual(7);
    const delays = lines.filter((l) => l.msg === "addon exited; restarting it").map((l) => l.inMs);
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 800].slice(0, Math.min(4, delays.length)));
    expect(status?.lastExit?.code).toBe(1);
  }, 20_000);

  it("with restart off, an addon that exits stays stopped", async () => {
    const s = start([addon("once", "process.exit(4);")], { restart: false });
    await until("the exit", () => s.list()[0]?.lastExit);
    await sleep(500);
    expect(s.list()[0]).toMatchObject({ running: false, pid: null, restarts: 0, lastExit: { code: 4 } });
  });

  it("mints a token with the addon's scopes only, keeps it off disk, and revokes it when the addon exits", async () => {
    const out = join(dir, "token");
    const s = start(
      [
        addon(
          "holder",
          `import { writeFileSync } from "node:fs"; writeFileSync(process.env.OUT, process.env.PODNET_ADMIN_TOKEN); ${STAY}`,
          { OUT: out },
        ),
      ],
      { restart: false },
    );
    const token = await until("the token", () => {
      try {
        return readFileSync(out, "utf8") || undefined;
      } catch {
        return undefined;
      }
    });
    expect(tokens.find(token)).toMatchObject({ name: "addon:holder", scopes: ["read"], spawned: true });
    // A token created by the provider is saved; the spawned one never reaches the file.
    tokens.create("provider's", ["read"], 3600);
    expect(readFileSync(join(dir, "admin", "tokens.json"), "utf8")).not.toContain("addon:holder");
    process.kill(s.list()[0]?.pid as number, "SIGKILL");
    await until("the exit", () => s.list()[0]?.lastExit);
    expect(tokens.find(token)).toBeUndefined();
  });

  it("gives the addon its own settings and the admin URL, never the worker's environment", async () => {
    const out = join(dir, "env.json");
    process.env.PODNET_PROVIDER_KEY = `0x${"11".repeat(32)}`;
    try {
      const s = start(
        [
          addon(
            "env",
            `import { writeFileSync } from "node:fs"; writeFileSync(process.env.OUT, JSON.stringify(process.env)); ${STAY}`,
            { OUT: out },
          ),
        ],
        { restart: false },
      );
      const env = await until("the env", () => {
        try {
          return JSON.parse(readFileSync(out, "utf8")) as Record<string, string>;
        } catch {
          return undefined;
        }
      });
      expect(env.PODNET_ADMIN_URL).toBe("http://127.0.0.1:1");
      expect(env.PODNET_ADMIN_TOKEN).toMatch(/./);
      expect(env.PODNET_PROVIDER_KEY).toBeUndefined();
      expect(
        Object.keys(env)
          .filter((k) => k.startsWith("PODNET_"))
          .sort(),
      ).toEqual(["PODNET_ADMIN_TOKEN", "PODNET_ADMIN_URL"]);
      expect(s.list()[0]?.running).toBe(true);
    } finally {
      delete process.env.PODNET_PROVIDER_KEY;
    }
  });

  it("forwards the addon's log lines into the worker's log, tagged with its name", async () => {
    start(
      [
        addon(
          "talker",
          `console.log(JSON.stringify({ level: "warn", msg: "low on ideas", orderId: "7" })); console.error("plain line"); ${STAY}`,
        ),
      ],
      { restart: false },
    );
    await until(
      "the lines",
      () => lines.some((l) => l.msg === "plain line") && lines.some((l) => l.msg === "low on ideas"),
    );
    expect(lines.find((l) => l.msg === "low on ideas")).toMatchObject({ level: "warn", addon: "talker", orderId: "7" });
    expect(lines.find((l) => l.msg === "plain line")).toMatchObject({ level: "info", addon: "talker" });
  });
});
