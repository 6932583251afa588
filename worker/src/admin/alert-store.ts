import { randomBytes } from "node:crypto";
import type { AdminEventBus } from "./event-bus.js";

export type AlertKind = "lease-closed" | "heartbeat-late" | "low-gas" | "pod-failing";

export interface Alert {
  id: string;
  kind: AlertKind;
  severity: "warning" | "critical";
  message: string;
  /** Unix seconds. */
  since: number;
  leaseId?: string;
  clearedAt?: number;
}

/** Alerts kept: the open ones and the newest cleared ones up to this many in all. */
export const MAX_ALERTS = 200;

/** Where alerts outlive a restart: the worker's state file (`alerts`, by condition key). */
export interface AlertPersistence {
  load(): Record<string, Alert>;
  save(alerts: Record<string, Alert>): void;
}

/**
 * What needs the provider's attention (GET /admin/v1/alerts, topic "alerts", the alert-webhooks addon): an alert is
 * raised once per condition (its key) and cleared when the condition is gone; a lease closed under a running pod is
 * raised and stays (it is an event, not a condition). Kept in the state file (at most {@link MAX_ALERTS}): after a
 * restart the open ones are still open, and the first watch clears those whose condition is gone.
 */
export class AdminAlerts {
  private readonly alerts: Map<string, Alert>;

  constructor(
    private readonly bus: AdminEventBus,
    private readonly nowSec: () => number = () => Math.floor(Date.now() / 1000),
    private readonly persistence?: AlertPersistence,
  ) {
    this.alerts = new Map(Object.entries(persistence?.load() ?? {}));
  }

  /** Raises the alert for `key` unless it is open already (then only its message follows the condition). */
  raise(key: string, alert: Omit<Alert, "id" | "since" | "clearedAt">) {
    const open = this.alerts.get(key);
    if (open && open.clearedAt === undefined) {
      if (open.message === alert.message && open.severity === alert.severity) return;
      open.message = alert.message;
      open.severity = alert.severity;
      this.save();
      return;
    }
    if (open) this.alerts.delete(key);
    const raised: Alert = { id: randomBytes(6).toString("hex"), since: this.nowSec(), ...alert };
    this.alerts.set(key, raised);
    this.trim();
    this.save();
    this.bus.publish("alerts", { alert: { ...raised } });
  }

  clear(key: string) {
    const open = this.alerts.get(key);
    if (!open || open.clearedAt !== undefined) return;
    open.clearedAt = this.nowSec();
    this.save();
    this.bus.publish("alerts", { alert: { ...open } });
  }

  list(): Alert[] {
    return [...this.alerts.values()].map((a) => ({ ...a })).sort((a, b) => b.since - a.since);
  }

  private save() {
    this.persistence?.save(Object.fromEntries([...this.alerts].map(([key, a]) => [key, { ...a }])));
  }

  private trim() {
    for (const [key, alert] of this.alerts) {
      if (this.alerts.size <= MAX_ALERTS) return;
      if (alert.clearedAt !== undefined || this.alerts.size > 2 * MAX_ALERTS) this.alerts.delete(key);
    }
  }
}
