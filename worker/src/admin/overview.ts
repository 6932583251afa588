import { createRequire } from "node:module";
import { healthReport } from "../api/routes/health.js";
import { notTakingWorkReason } from "../market/liveness.js";
import { readStake } from "../market/provider-profile.js";
import type { AdminDeps } from "./deps.js";
import { tokenInfo } from "./token-info.js";

/** The worker package's version (package.json two levels up from src/admin and from dist/admin alike). */
export const workerVersion: string = createRequire(import.meta.url)("../../package.json").version;

/**
 * GET /admin/v1/overview: what the console's first page shows. Registration from the profile the worker keeps (read
 * at start and on registry events), jail and dark gap from its liveness record, the health report /health answers,
 * and one chain read for the stake (free, locked, unbonding, last heartbeat); when the chain does not answer, the
 * stake is null with the reason and the rest still answers.
 */
export async function overview({ ctx, reconciler, ingressRoutes }: AdminDeps) {
  const [health, token] = await Promise.all([healthReport({ ctx, reconciler, ingressRoutes }), tokenInfo(ctx)]);
  const now = ctx.chainNow();
  let stake: Record<string, string | number | boolean> | null = null;
  let stakeError: string | undefined;
  try {
    const s = await readStake(ctx.chain);
    stake = {
      free: s.free.toString(),
      locked: s.locked.toString(),
      unbonding: s.unbonding.toString(),
      jailed: s.jailed,
      lastHeartbeat: Number(s.lastHeartbeat),
    };
  } catch (error) {
    stakeError = (error as Error).message.split("\n")[0];
  }
  const threshold = Number(ctx.params.heartbeatThreshold);
  const lastHeartbeat = stake ? Number(stake.lastHeartbeat) : undefined;
  const { profile } = ctx;
  return {
    version: workerVersion,
    provider: ctx.chain.account.address,
    chainId: ctx.chain.chainId,
    token,
    registration: {
      registered: profile.registered,
      status: !profile.registered ? "none" : profile.active ? "active" : "paused",
      paused: profile.registered && !profile.active,
      endpoint: profile.endpoint,
    },
    jailed: ctx.state.data.liveness.jailedUntil !== undefined,
    ...(ctx.state.data.liveness.jailedUntil !== undefined ? { jailedUntil: ctx.state.data.liveness.jailedUntil } : {}),
    notTakingWork: notTakingWorkReason(ctx, now) ?? null,
    stake,
    ...(stakeError ? { stakeError } : {}),
    heartbeat: {
      last: lastHeartbeat ?? null,
      ageSec: lastHeartbeat === undefined ? null : Math.max(0, now - lastHeartbeat),
      thresholdSec: threshold,
    },
    health: {
      status: health.status,
      degraded: health.degraded,
      chain: health.chain,
      docker: health.docker,
      disk: health.disk,
      // The worker reads the chain directly and uses no indexer; the console will show the indexer's health once a
      // page reads from one.
      indexer: { used: false },
    },
    leases: health.leases,
    sandbox: health.sandbox,
  };
}
