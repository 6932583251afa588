/**
 * What every addon uses to talk to the worker (docs/console.md, Addons): the admin URL and the bearer token from its
 * environment (PODNET_ADMIN_URL, PODNET_ADMIN_TOKEN, set by the worker that started it), JSON GET and POST, the event
 * stream with reconnects, and log lines the worker forwards into its own log. An addon imports nothing else of the
 * worker: it is outside the trusted core and holds only its token's scopes.
 */

export class AdminApiError extends Error {
  override name = "AdminApiError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface AddonEvent {
  topic: string;
  data: Record<string, unknown>;
}

/** Exit code of an addon whose token was refused: revoked, or the worker restarted; the worker starts a new one. */
export const TOKEN_REFUSED_EXIT = 3;

export class AddonClient {
  constructor(
    readonly adminUrl: string,
    private readonly token: string,
  ) {}

  /** The client of the addon's environment; exits when the worker that started it goes away (stdin closes). */
  static fromEnv(): AddonClient {
    const url = process.env.PODNET_ADMIN_URL;
    const token = process.env.PODNET_ADMIN_TOKEN;
    if (!url || !token) {
      addonLog("error", "PODNET_ADMIN_URL and PODNET_ADMIN_TOKEN must be set (the worker sets them)");
      process.exit(2);
    }
    // The worker holds the other end of stdin: when it exits, even killed, this addon must not outlive it.
    process.stdin.on("end", () => process.exit(0));
    process.stdin.on("error", () => process.exit(0));
    process.stdin.resume();
    return new AddonClient(url, token);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(path, this.adminUrl), {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = JSON.parse(text).error ?? text;
      } catch {}
      throw new AdminApiError(response.status, `${method} ${path}: ${response.status} ${message}`);
    }
    return JSON.parse(text) as T;
  }

  /**
   * Follows GET /admin/v1/events on `topics` for good: calls `onConnect` on every (re)connect, before any event, so
   * the addon reads the resources it follows again (events are not replayed), then `onEvent` per event. A dropped
   * stream is reopened after a delay that doubles up to 30 s. A refused token (401) ends the addon: it will not come
   * back.
   */
  async follow(topics: string[], onConnect: () => Promise<void>, onEvent: (event: AddonEvent) => Promise<void>) {
    let delayMs = 500;
    for (;;) {
      try {
        await this.stream(
          topics,
          async () => {
            delayMs = 500;
            await onConnect();
          },
          onEvent,
        );
        addonLog("warn", "event stream ended; reconnecting");
      } catch (error) {
        if (error instanceof AdminApiError && (error.status === 401 || error.status === 403)) {
          addonLog("error", "the worker refused this addon's token; exiting", { status: error.status });
          process.exit(TOKEN_REFUSED_EXIT);
        }
        addonLog("warn", "event stream failed; reconnecting", { error: (error as Error).message, inMs: delayMs });
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 30_000);
    }
  }

  private async stream(
    topics: string[],
    onConnect: () => Promise<void>,
    onEvent: (event: AddonEvent) => Promise<void>,
  ): Promise<void> {
    const response = await fetch(new URL(`/admin/v1/events?topics=${topics.join(",")}`, this.adminUrl), {
      headers: { authorization: `Bearer ${this.token}`, accept: "text/event-stream" },
    });
    if (!response.ok || !response.body) {
      throw new AdminApiError(response.status, `GET /admin/v1/events: ${response.status} ${await response.text()}`);
    }
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        let topic = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) topic = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trimStart();
        }
        if (data === "") continue;
        if (topic === "ready") {
          await onConnect();
          continue;
        }
        await onEvent({ topic, data: JSON.parse(data) });
      }
    }
  }
}

/** One log line the worker forwards into its log, tagged with the addon's name (stdout, JSON). */
export function addonLog(
  level: "debug" | "info" | "warn" | "error",
  msg: string,
  fields: Record<string, unknown> = {},
) {
  process.stdout.write(`${JSON.stringify({ level, msg, ...fields })}\n`);
}
