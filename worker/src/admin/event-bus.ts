/**
 * What changed in the worker, for the console's live updates and for addons (GET /admin/v1/events, server-sent
 * events). A topic says which admin resource to read again; `data` carries what a listener needs without a second
 * request (small: an id, a figure), never a secret. Delivery is best effort and in memory: a listener that was away
 * reads the resource again on reconnect.
 */
export const ADMIN_EVENT_TOPICS = [
  /** The listing, registration, stake or liveness changed: GET /overview. */
  "overview",
  /** A fresh sample of live CPU and memory use: GET /capacity. */
  "usage",
  /** A lease started, changed phase or closed: GET /leases. */
  "leases",
  /** An open order this provider may bid on was seen (the bidder addon's feed); data: the order. */
  "orders",
  /** A bid was placed, won, lost or released: GET /bids. */
  "bids",
  /** A withdrawal landed: GET /earnings. */
  "earnings",
  /** A dispute or dark report on this provider changed: GET /disputes. */
  "disputes",
  /** An alert was raised or cleared: GET /alerts. */
  "alerts",
] as const;

export type AdminEventTopic = (typeof ADMIN_EVENT_TOPICS)[number];

export interface AdminEvent {
  /** Increases by one per event since the worker started; the SSE `id`. */
  seq: number;
  topic: AdminEventTopic;
  /** Milliseconds since the epoch. */
  at: number;
  data: Record<string, unknown>;
}

type Listener = (event: AdminEvent) => void;

export class AdminEventBus {
  private seq = 0;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly now: () => number = Date.now) {}

  publish(topic: AdminEventTopic, data: Record<string, unknown> = {}): void {
    const event: AdminEvent = { seq: ++this.seq, topic, at: this.now(), data };
    for (const listener of this.listeners) {
      // One listener's failure (a closed stream) must not keep the event from the others or from the publisher.
      try {
        listener(event);
      } catch {}
    }
  }

  /** Calls `listener` for every event from now on; returns the function that stops it. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount() {
    return this.listeners.size;
  }
}
