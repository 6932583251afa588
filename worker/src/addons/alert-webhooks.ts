/**
 * The alert-webhooks addon (docs/console.md, Addons): POSTs every alert the worker raises or clears to
 * PODNET_WEBHOOK_URL as JSON, signed so the receiver can tell it came from this worker:
 *
 *   x-podnet-timestamp: <unix seconds>
 *   x-podnet-signature: sha256=<hex HMAC-SHA256 of `${timestamp}.${body}` under PODNET_WEBHOOK_SECRET>
 *
 * A delivery that fails (no answer, not 2xx) is retried after 1, 2, 4 ... up to 60 s, at most 10 times, in order;
 * the receiver may see one alert twice (same `alert.id` and `event`), never a forged one. Token scope: read. The
 * secret is never logged.
 */
import { createHmac } from "node:crypto";
import { AddonClient, addonLog } from "./client.js";

const url = process.env.PODNET_WEBHOOK_URL;
const secret = process.env.PODNET_WEBHOOK_SECRET;
if (!url || !secret) {
  addonLog("error", "PODNET_WEBHOOK_URL and PODNET_WEBHOOK_SECRET must be set");
  process.exit(2);
}
const MAX_ATTEMPTS = 10;
const client = AddonClient.fromEnv();

/** The signature header of `body` at `timestamp`: what a receiver recomputes and compares in constant time. */
function webhookSignature(key: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", key).update(`${timestamp}.${body}`).digest("hex")}`;
}

const queue: Record<string, unknown>[] = [];
let draining = false;

async function deliver(payload: Record<string, unknown>) {
  const body = JSON.stringify(payload);
  let delayMs = 1000;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(url as string, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-podnet-timestamp": String(timestamp),
          "x-podnet-signature": webhookSignature(secret as string, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      if (response.ok) {
        addonLog("info", "alert delivered", { alertId: (payload.alert as { id?: string })?.id, attempt });
        return;
      }
      addonLog("warn", "webhook refused the alert", { status: response.status, attempt, retryInMs: delayMs });
    } catch (error) {
      addonLog("warn", "webhook unreachable", { error: (error as Error).message, attempt, retryInMs: delayMs });
    }
    if (attempt < MAX_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 60_000);
  }
  addonLog("error", "alert not delivered; giving up", { alertId: (payload.alert as { id?: string })?.id });
}

async function drain() {
  if (draining) return;
  draining = true;
  try {
    for (let next = queue.shift(); next; next = queue.shift()) await deliver(next);
  } finally {
    draining = false;
  }
}

/** Alert ids and clear times already sent in this run: a reconnect reads every alert again. */
const sent = new Set<string>();

function enqueue(alert: { id: string; clearedAt?: number }) {
  const event = alert.clearedAt === undefined ? "raised" : "cleared";
  const key = `${alert.id}:${event}`;
  if (sent.has(key)) return;
  sent.add(key);
  queue.push({ event, alert });
  void drain();
}

let first = true;
await client.follow(
  ["alerts"],
  async () => {
    const { alerts } = await client.get<{ alerts: { id: string; clearedAt?: number }[] }>("/admin/v1/alerts");
    // What was open before this addon first started is sent too: the receiver hears of every open alert.
    for (const alert of alerts.reverse()) if (!first || alert.clearedAt === undefined) enqueue(alert);
    first = false;
  },
  async (event) => {
    const alert = (event.data as { alert?: { id: string; clearedAt?: number } }).alert;
    if (alert) enqueue(alert);
  },
);
