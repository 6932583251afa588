import type { PodPhase } from "@podnet/sdk/protocol";
import type { Hono } from "hono";
import type { WorkerContext } from "../context.js";
import { readStake } from "../market/provider-profile.js";
import type { AdminDeps } from "./deps.js";
import type { AdminGuard } from "./guard.js";

/** How often the watch reads the heartbeat, the gas balance and the pods' phases. */
export const ALERT_WATCH_MS = 15_000;

const closeReasons = ["none", "the publisher", "the provider", "out of funds", "the provider was reported dark"];

/**
 * A lease of this provider closed on chain by someone else while its pod was deployed: the publisher ended it, or a
 * reporter ended all of them (dark: critical). A closure this worker sent itself (out of funds, no manifest) is its own
 * decision and raises nothing.
 */
export function alertOnLeaseClosed(
  ctx: WorkerContext,
  leaseId: string,
  closedBy: `0x${string}`,
  reason: number,
  podDeployed: boolean,
) {
  if (!podDeployed || closedBy.toLowerCase() === ctx.chain.account.address.toLowerCase()) return;
  ctx.alerts.raise(`lease-closed:${leaseId}`, {
    kind: "lease-closed",
    severity: reason === 4 ? "critical" : "warning",
    message: `lease ${leaseId} was closed on chain by ${closedBy} (${closeReasons[reason] ?? `reason ${reason}`}) while its pod was running`,
    leaseId,
  });
}

/**
 * One pass of the watch: the heartbeat's age against the market's threshold (late past half of it: warning; past
 * three quarters: critical), the provider's ETH balance against `alertMinGasWei`, and every active lease's pod phase
 * (failed: warning). A read that fails leaves its alerts as they are.
 */
export async function watchAlerts(ctx: WorkerContext, phases: Map<string, PodPhase>) {
  const { alerts } = ctx;
  if (ctx.profile.registered) {
    try {
      const stake = await readStake(ctx.chain);
      const threshold = Number(ctx.params.heartbeatThreshold);
      const age = ctx.chainNow() - Number(stake.lastHeartbeat);
      if (age > threshold / 2) {
        alerts.raise("heartbeat-late", {
          kind: "heartbeat-late",
          severity: age > (threshold * 3) / 4 ? "critical" : "warning",
          message: `the last heartbeat on chain is ${age} s old; the market may report this provider dark after ${threshold} s`,
        });
      } else {
        alerts.clear("heartbeat-late");
      }
    } catch {}
  }
  try {
    const balance = await ctx.chain.publicClient.getBalance({ address: ctx.chain.account.address });
    if (balance < ctx.config.alertMinGasWei) {
      alerts.raise("low-gas", {
        kind: "low-gas",
        severity: balance === 0n ? "critical" : "warning",
        message: `the provider's gas balance is ${balance} wei, below alertMinGasWei (${ctx.config.alertMinGasWei}); heartbeats and claims need gas`,
      });
    } else {
      alerts.clear("low-gas");
    }
  } catch {}
  for (const lease of Object.values(ctx.state.data.leases)) {
    const phase = phases.get(lease.id);
    const key = `pod-failing:${lease.id}`;
    if (lease.status === "active" && phase?.phase === "failed") {
      alerts.raise(key, {
        kind: "pod-failing",
        severity: "warning",
        message: `the pod of lease ${lease.id} failed: ${phase.reason}`,
        leaseId: lease.id,
      });
    } else {
      alerts.clear(key);
    }
  }
}

/** GET /admin/v1/alerts [read]: open and recently cleared alerts, newest first. */
export function registerAlertRoutes(app: Hono, { ctx }: AdminDeps, guard: AdminGuard) {
  app.get("/admin/v1/alerts", guard.require("read"), (c) => c.json({ alerts: ctx.alerts.list() }));
}
