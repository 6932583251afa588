import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { WorkerConfig } from "../config.js";
import type { Logger, LogLevel } from "../log.js";
import type { AdminScope } from "./scopes.js";
import type { AdminTokens } from "./tokens.js";

/** An addon the worker starts: a program outside the trusted core that talks to it only through the admin API. */
export interface AddonSpec {
  name: string;
  /** The module the child runs (worker/src/addons/<name>.ts, or a test's own). */
  script: string;
  /** What its token may do; nothing else. */
  scopes: AdminScope[];
  /** Its own settings; the worker's environment (the provider key among it) is never passed on. */
  env: Record<string, string>;
}

export interface AddonStatus {
  name: string;
  running: boolean;
  pid: number | null;
  restarts: number;
  /** Milliseconds since the epoch of the current (or last) start. */
  startedAt: number | null;
  lastExit: { code: number | null; signal: string | null; at: number } | null;
  scopes: AdminScope[];
}

export interface RestartPolicy {
  /** Restart an addon that exits (false: it stays stopped until the worker restarts). */
  restart: boolean;
  /** First restart delay; doubled per exit in a row, up to `maxDelayMs`. */
  delayMs: number;
  maxDelayMs: number;
}

/** An addon that ran this long before it exited starts over from the first delay: it was not crash-looping. */
const STABLE_RUN_MS = 60_000;
/** Log lines of an addon longer than this are cut: an addon cannot flood the worker's log with one line. */
const MAX_LINE = 4096;
/** An addon's token lives as long as its process; this is only the ceiling. */
const TOKEN_LIFETIME_SEC = 365 * 24 * 3600;
/** How long stop() waits for an addon to exit on SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 3000;

/** The launcher every addon runs under: node + tsx, as the worker itself (worker/bin/podnet-worker.mjs). */
const addonBin = join(import.meta.dirname, "..", "..", "bin", "podnet-addon.mjs");

interface Running {
  spec: AddonSpec;
  child?: ChildProcess;
  tokenId?: string;
  restarts: number;
  failuresInARow: number;
  startedAt: number | null;
  lastExit: AddonStatus["lastExit"];
  timer?: NodeJS.Timeout;
}

/**
 * Runs the configured addons as child processes (docs/console.md, Addons). Each start mints the child a token holding
 * only its spec's scopes, in memory only (AdminTokens `spawned`), passed in its environment with the admin URL; the
 * token is revoked the moment the child exits, so nothing it left behind can use it. An addon that exits is restarted
 * after a delay that doubles per exit in a row (never a hot loop). Its stdout and stderr lines go to the worker's log,
 * tagged with its name. The child's stdin is a pipe it watches: when the worker dies, even by SIGKILL, the pipe closes
 * and the addon exits instead of outliving it.
 */
export class AddonSupervisor {
  private readonly addons = new Map<string, Running>();
  private stopping = false;

  constructor(
    private readonly tokens: AdminTokens,
    private readonly adminUrl: () => string,
    private readonly log: Logger,
    private readonly policy: RestartPolicy,
    /** Called when an addon starts or exits (the worker publishes topic "overview": the console's addons page). */
    private readonly onChange: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  start(specs: AddonSpec[]) {
    for (const spec of specs) {
      const running: Running = { spec, restarts: 0, failuresInARow: 0, startedAt: null, lastExit: null };
      this.addons.set(spec.name, running);
      this.spawn(running);
    }
  }

  list(): AddonStatus[] {
    return [...this.addons.values()].map((a) => ({
      name: a.spec.name,
      running: a.child !== undefined,
      pid: a.child?.pid ?? null,
      restarts: a.restarts,
      startedAt: a.startedAt,
      lastExit: a.lastExit,
      scopes: [...a.spec.scopes],
    }));
  }

  /** Stops every addon (SIGTERM, then SIGKILL) and revokes their tokens. */
  async stop() {
    this.stopping = true;
    await Promise.all(
      [...this.addons.values()].map(async (a) => {
        clearTimeout(a.timer);
        const child = a.child;
        if (!child) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
        await exited;
        clearTimeout(kill);
      }),
    );
  }

  private spawn(a: Running) {
    const { spec } = a;
    const { token, info } = this.tokens.create(`addon:${spec.name}`, spec.scopes, TOKEN_LIFETIME_SEC, {
      spawned: true,
    });
    a.tokenId = info.id;
    const child = spawn(process.execPath, [addonBin, spec.script], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...spec.env,
        PODNET_ADMIN_URL: this.adminUrl(),
        PODNET_ADMIN_TOKEN: token,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    a.child = child;
    a.startedAt = this.now();
    const log = this.log.child({ addon: spec.name });
    log.info("addon started", { pid: child.pid, scopes: spec.scopes });
    this.onChange();
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on("line", (line) => forwardLine(log, line));
    }
    let exited = false;
    const onExit = (code: number | null, signal: string | null) => {
      if (exited) return;
      exited = true;
      this.exited(a, log, code, signal);
    };
    child.once("exit", onExit);
    child.once("error", (error) => {
      log.error("addon could not run", { error: error.message });
      onExit(null, null);
    });
  }

  private exited(a: Running, log: Logger, code: number | null, signal: string | null) {
    if (a.tokenId) this.tokens.revoke(a.tokenId);
    a.tokenId = undefined;
    a.child = undefined;
    const at = this.now();
    a.lastExit = { code, signal, at };
    const ranMs = at - (a.startedAt ?? at);
    a.failuresInARow = ranMs >= STABLE_RUN_MS ? 1 : a.failuresInARow + 1;
    this.onChange();
    if (this.stopping) return;
    if (!this.policy.restart) {
      log.warn("addon exited; not restarting it (addons.restart: false)", { code, signal });
      return;
    }
    const delayMs = Math.min(this.policy.maxDelayMs, this.policy.delayMs * 2 ** (a.failuresInARow - 1));
    log.warn("addon exited; restarting it", { code, signal, inMs: delayMs });
    a.timer = setTimeout(() => {
      if (this.stopping) return;
      a.restarts++;
      this.spawn(a);
    }, delayMs);
  }
}

const levels = new Set<LogLevel>(["debug", "info", "warn", "error"]);

/** An addon's line: `{"level","msg",...fields}` JSON as the addon client writes, else plain text at info. */
function forwardLine(log: Logger, raw: string) {
  const line = raw.length > MAX_LINE ? `${raw.slice(0, MAX_LINE)}…` : raw;
  try {
    const parsed = JSON.parse(line);
    if (parsed && typeof parsed === "object" && typeof parsed.msg === "string" && levels.has(parsed.level)) {
      const { level, msg, time: _time, addon: _addon, ...fields } = parsed;
      log[level as LogLevel](msg, fields);
      return;
    }
  } catch {}
  if (line.trim() !== "") log.info(line);
}

/** The addon modules shipped with the worker, beside this folder (src/addons or dist/addons: same extension as this). */
const shippedAddon = (name: string) =>
  join(import.meta.dirname, "..", "addons", `${name}${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`);

/**
 * The addons `config` turns on: the bidder unless `addons.bidder` or `bidding.enabled` is false, alert webhooks when
 * `addons.alertWebhooks` names a URL. The webhook secret comes from `secretFile` (which must not be readable by
 * others) or PODNET_ALERT_WEBHOOK_SECRET, and reaches the addon in its environment only.
 */
export function configuredAddons(config: WorkerConfig, env: NodeJS.ProcessEnv = process.env): AddonSpec[] {
  const specs: AddonSpec[] = [];
  if (config.addons.bidder && config.bidding.enabled) {
    specs.push({
      name: "bidder",
      script: shippedAddon("bidder"),
      scopes: ["read", "bids"],
      env: { PODNET_BIDDER_PRICE_BPS: String(config.bidding.priceBps) },
    });
  }
  const webhooks = config.addons.alertWebhooks;
  if (webhooks) {
    specs.push({
      name: "alert-webhooks",
      script: shippedAddon("alert-webhooks"),
      scopes: ["read"],
      env: { PODNET_WEBHOOK_URL: webhooks.url, PODNET_WEBHOOK_SECRET: webhookSecret(webhooks.secretFile, env) },
    });
  }
  return specs;
}

function webhookSecret(secretFile: string | undefined, env: NodeJS.ProcessEnv): string {
  if (secretFile) {
    const mode = statSync(secretFile).mode;
    if ((mode & 0o077) !== 0) {
      throw new Error(`addons.alertWebhooks.secretFile: ${secretFile} is readable by others; chmod 600 it`);
    }
    const secret = readFileSync(secretFile, "utf8").trim();
    if (secret.length < 16)
      throw new Error("addons.alertWebhooks.secretFile: the secret must be 16 characters or more");
    return secret;
  }
  const secret = env.PODNET_ALERT_WEBHOOK_SECRET;
  if (!secret || secret.length < 16) {
    throw new Error(
      "addons.alertWebhooks: set secretFile (mode 0600) or PODNET_ALERT_WEBHOOK_SECRET (16 characters or more)",
    );
  }
  return secret;
}
