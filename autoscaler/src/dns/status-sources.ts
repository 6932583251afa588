import type { Logger } from "../log.js";
import { SharedRun } from "../shared-run.js";
import { type AppStatus, fetchAppStatus } from "../status-wire.js";

/**
 * The apps' status URLs, polled in the background: each URL on its own timer, one request in flight per URL, its
 * last good answer kept until it is `staleAfterMs` old. Nothing here is awaited by a DNS answer; after every poll
 * (good or bad) `onPoll` lets the server rebuild its snapshot from {@link StatusSources.fresh}.
 */

export interface StatusSourcesOptions {
  apps: { name: string; statusUrls: string[] }[];
  pollIntervalMs: number;
  timeoutMs: number;
  staleAfterMs: number;
  onPoll: () => void;
  log: Logger;
  /** How a status is fetched; default {@link fetchAppStatus} (size and time limits, validation). */
  fetchStatus?: (url: string, timeoutMs: number) => Promise<AppStatus>;
}

interface Source {
  app: string;
  url: string;
  good?: { status: AppStatus; at: number };
  /** The last failure's message, so a failure is logged when it starts or changes, not every poll. */
  failing?: string;
  timer?: NodeJS.Timeout;
  /** Its polls: one request in flight at a time, shared by the timer and {@link StatusSources.pollAll}. */
  polls?: SharedRun;
}

export class StatusSources {
  #sources: Source[];
  readonly #opts: StatusSourcesOptions;
  #stopped = false;
  #started = false;

  constructor(opts: StatusSourcesOptions) {
    this.#opts = opts;
    this.#sources = sourcesOf(opts.apps);
  }

  /**
   * Replaces the apps and their URLs (a network node's directory changes as nodes and apps come and go). A URL the
   * app had before keeps its last good answer and its timer; a removed one stops; a new one is polled at once.
   * Resolves when the new URLs' first polls are done.
   */
  async setApps(apps: StatusSourcesOptions["apps"]): Promise<void> {
    const before = new Map(this.#sources.map((source) => [keyOf(source), source]));
    const next = sourcesOf(apps).map((source) => before.get(keyOf(source)) ?? source);
    const kept = new Set(next);
    for (const source of this.#sources) if (!kept.has(source)) clearTimeout(source.timer);
    const added = next.filter((source) => !before.has(keyOf(source)));
    this.#sources = next;
    if (!this.#started) return;
    await Promise.all(added.map((source) => this.#poll(source)));
    for (const source of added) this.#schedule(source);
  }

  /** Polls every URL now and then every `pollIntervalMs`; resolves when the first round is done. */
  async start(): Promise<void> {
    this.#started = true;
    await this.pollAll();
    for (const source of this.#sources) this.#schedule(source);
  }

  /**
   * Polls every URL once now and resolves when each has answered (or failed) a request sent after this call. A URL
   * with a request in flight gets one more after it, shared by every pollAll() meanwhile: an answer fetched before a
   * change the caller has just made must not pass for the answer after it.
   */
  async pollAll(): Promise<void> {
    await Promise.all(this.#sources.map((source) => this.#pollsOf(source).fresh()));
  }

  stop(): void {
    this.#stopped = true;
    for (const source of this.#sources) clearTimeout(source.timer);
  }

  /** Each app's statuses that are not stale at `now`; an app whose every URL is stale is missing. */
  fresh(now = Date.now()): Map<string, AppStatus[]> {
    const byApp = new Map<string, AppStatus[]>();
    for (const source of this.#sources) {
      if (!source.good || now - source.good.at > this.#opts.staleAfterMs) continue;
      const list = byApp.get(source.app) ?? [];
      list.push(source.good.status);
      byApp.set(source.app, list);
    }
    return byApp;
  }

  #schedule(source: Source): void {
    // A source removed by setApps is no longer scheduled.
    if (this.#stopped || !this.#sources.includes(source)) return;
    source.timer = setTimeout(() => {
      this.#poll(source).finally(() => this.#schedule(source));
    }, this.#opts.pollIntervalMs);
    source.timer.unref();
  }

  /** A poll of the URL: the one in flight, else a new one (the timer's, a new URL's first). */
  #poll(source: Source): Promise<void> {
    return this.#pollsOf(source).any();
  }

  #pollsOf(source: Source): SharedRun {
    source.polls ??= new SharedRun(() =>
      this.#fetch(source).finally(() => {
        if (!this.#stopped) this.#opts.onPoll();
      }),
    );
    return source.polls;
  }

  async #fetch(source: Source): Promise<void> {
    const { log, timeoutMs, fetchStatus = fetchAppStatus } = this.#opts;
    try {
      const status = await fetchStatus(source.url, timeoutMs);
      source.good = { status, at: Date.now() };
      if (source.failing !== undefined) log.info("status URL answers again", { app: source.app, url: source.url });
      source.failing = undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (source.failing !== message) {
        log.warn("status URL failed; its last good answer is kept until stale", {
          app: source.app,
          url: source.url,
          error: message,
          lastGoodAt: source.good ? new Date(source.good.at).toISOString() : null,
        });
      }
      source.failing = message;
    }
  }
}

function sourcesOf(apps: StatusSourcesOptions["apps"]): Source[] {
  return apps.flatMap((app) => app.statusUrls.map((url) => ({ app: app.name, url })));
}

const keyOf = (source: Pick<Source, "app" | "url">) => `${source.app}\n${source.url}`;
