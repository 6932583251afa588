/**
 * The limits of the worker's two listeners, from its configuration and its descriptor budget: raises the open-file
 * limit, shares it out (fd-budget.ts) and logs what it got, so an operator sees at start how many connections each
 * listener takes.
 */
import type { WorkerConfig } from "../config.js";
import type { IngressOptions } from "../ingress/http-ingress.js";
import type { Logger } from "../log.js";
import { budgetFileDescriptors, type FdBudget, raiseOpenFileLimit } from "./fd-budget.js";
import { TrustedProxies } from "./forwarded.js";
import type { HttpLimits } from "./http-limits.js";

export interface ListenerLimits {
  budget: FdBudget;
  api: HttpLimits;
  ingress: IngressOptions;
}

export function listenerLimits(config: WorkerConfig, log: Logger): ListenerLimits {
  const raised = raiseOpenFileLimit(config.nofile);
  if (raised.shortBy) log.warn("open-file limit below nofile", { limit: raised.limit, reason: raised.shortBy });
  const budget = budgetFileDescriptors(raised.limit, {
    apiConnections: config.apiMaxConnections,
    ingressConnections: config.ingressMaxConnections,
  });
  log.info("file descriptors budgeted", { ...budget });
  const deadlines = {
    headersTimeoutMs: config.httpHeadersTimeoutMs,
    idleTimeoutMs: config.httpIdleTimeoutMs,
    keepAliveTimeoutMs: 5_000,
  };
  return {
    budget,
    api: { maxConnections: budget.apiConnections, ...deadlines },
    ingress: {
      limits: { maxConnections: budget.ingressConnections, ...deadlines },
      upstreamTimeoutMs: config.ingressUpstreamTimeoutMs,
      wakeTimeoutMs: config.ingressWakeTimeoutMs,
      upgradeIdleTimeoutMs: config.ingressUpgradeIdleTimeoutMs,
      maxUpgradesPerLease: config.ingressMaxUpgradesPerLease,
      trustedProxies: new TrustedProxies(config.trustedProxies),
    },
  };
}
