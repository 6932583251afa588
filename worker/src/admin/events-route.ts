import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { HttpError } from "../api/http-error.js";
import { ADMIN_EVENT_TOPICS, type AdminEvent, type AdminEventBus, type AdminEventTopic } from "./event-bus.js";

/** Open event streams at once: each holds a connection and a listener; the console needs one per tab. */
export const MAX_EVENT_STREAMS = 32;
/** A comment line this often keeps proxies from closing an idle stream and lets the worker see a gone client. */
const KEEPALIVE_MS = 15_000;

/** The topics a `?topics=a,b` query asks for (all when absent), or 400 naming the unknown one. */
export function parseTopics(query: string | undefined): Set<AdminEventTopic> {
  if (query === undefined || query === "") return new Set(ADMIN_EVENT_TOPICS);
  const topics = new Set<AdminEventTopic>();
  for (const name of query.split(",")) {
    if (!(ADMIN_EVENT_TOPICS as readonly string[]).includes(name)) {
      throw new HttpError(400, `topics: unknown topic "${name.slice(0, 40)}"; one of ${ADMIN_EVENT_TOPICS.join(", ")}`);
    }
    topics.add(name as AdminEventTopic);
  }
  return topics;
}

/**
 * GET /admin/v1/events: server-sent events, one per bus event on the asked topics (`event:` the topic, `id:` the
 * sequence number, `data:` `{at, ...data}` as JSON). Events are not replayed: on (re)connect a client reads the
 * resources it shows, then applies events.
 */
export function eventStream(bus: AdminEventBus, open: { count: number }) {
  return (c: Context) => {
    const topics = parseTopics(c.req.query("topics"));
    if (open.count >= MAX_EVENT_STREAMS) {
      throw HttpError.later(503, `events: ${MAX_EVENT_STREAMS} streams are open; close one`, 5);
    }
    open.count++;
    return streamSSE(c, async (stream) => {
      const queue: AdminEvent[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = bus.subscribe((event) => {
        if (!topics.has(event.topic)) return;
        queue.push(event);
        wake?.();
      });
      const keepalive = setInterval(() => wake?.(), KEEPALIVE_MS);
      stream.onAbort(() => wake?.());
      try {
        await stream.writeSSE({ event: "ready", data: JSON.stringify({ topics: [...topics] }) });
        while (!stream.aborted && !stream.closed) {
          const event = queue.shift();
          if (event) {
            await stream.writeSSE({
              event: event.topic,
              id: String(event.seq),
              data: JSON.stringify({ at: event.at, ...event.data }),
            });
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          if (queue.length === 0 && !stream.aborted) await stream.write(": keepalive\n\n");
        }
      } finally {
        clearInterval(keepalive);
        unsubscribe();
        open.count--;
      }
    });
  };
}
