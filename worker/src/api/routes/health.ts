import { statfsSync } from "node:fs";
import { providerApiRoutes } from "@podnet/sdk/protocol";
import { Hono } from "hono";
import type { WorkerContext } from "../../context.js";
import type { ApiDeps } from "../deps.js";

/** /health gives up on a Docker ping after this long: a hung engine must not hang the health check. */
const DOCKER_PING_TIMEOUT_MS = 2000;
/** Less free space than this on the data dir's file system counts as a full disk. */
const MIN_FREE_DISK_BYTES = 256 * 1024 ** 2;

/**
 * GET /health and GET /metrics. /health answers from what the worker already knows (no chain call), so it answers
 * during an RPC outage too, and reports each part that is degraded: the chain (`unreachable`: the last poll failed;
 * `stalled`: no new block for `chainStallSec`), Docker, the data dir's disk, failing reconcile passes. 503 while any
 * part is degraded; pods keep running and being served meanwhile.
 */
export function healthRoutes({ ctx, ingressRoutes, reconciler }: ApiDeps) {
  const app = new Hono();

  app.on(providerApiRoutes.health.method, providerApiRoutes.health.pattern, async (c) => {
    const report = await healthReport({ ctx, ingressRoutes, reconciler });
    return c.json(report, report.degraded.length === 0 ? 200 : 503);
  });

  app.on(providerApiRoutes.metrics.method, providerApiRoutes.metrics.pattern, async (c) => {
    ctx.metrics.chainCursor.set(ctx.state.data.cursor);
    updateGauges(ctx, (await dockerStatus(ctx)) === "ok");
    return c.text(await ctx.metrics.registry.metrics(), 200, { "content-type": ctx.metrics.registry.contentType });
  });

  return app;
}

/**
 * What /health answers (and the admin overview shows): each part of the worker and whether it is degraded. From what
 * the worker already knows, no chain call.
 */
export async function healthReport({
  ctx,
  ingressRoutes,
  reconciler,
}: Pick<ApiDeps, "ctx" | "ingressRoutes" | "reconciler">) {
  const docker = await dockerStatus(ctx);
  const chainState = ctx.follower.chainState;
  const disk = diskStatus(ctx);
  const degraded = [
    ...(chainState === "ok" ? [] : ["chain"]),
    ...(docker === "ok" ? [] : ["docker"]),
    ...(disk.ok ? [] : ["disk"]),
    ...(reconciler.failedPasses > 0 ? ["reconcile"] : []),
  ];
  updateGauges(ctx, docker === "ok");
  return {
    status: degraded.length === 0 ? "ok" : "degraded",
    degraded,
    provider: ctx.chain.account.address,
    chainId: ctx.chain.chainId,
    chain: {
      state: chainState,
      reachable: ctx.follower.healthy,
      healthy: ctx.follower.healthy,
      head: ctx.follower.head.number.toString(),
      cursor: ctx.state.data.cursor,
      headAgeSec: ctx.follower.headAgeSec,
      failures: ctx.follower.consecutiveFailures,
      ...(ctx.follower.lastError ? { lastError: ctx.follower.lastError } : {}),
      reorgs: ctx.follower.reorgs,
    },
    docker,
    disk,
    reconcile: {
      failedPasses: reconciler.failedPasses,
      // Pod stops put off while the chain could not confirm them, and stops the teardown guard refused.
      teardownsDeferred: reconciler.guard.deferred,
      teardownsRefused: reconciler.guard.refused,
    },
    // What of the pod sandbox is enforced here; `notEnforced` names every part that is not.
    sandbox: ctx.sandbox,
    leases: Object.values(ctx.state.data.leases).filter((l) => l.status === "active").length,
    routes: ingressRoutes.size,
  };
}

/** "ok", or why Docker does not answer. */
async function dockerStatus(ctx: WorkerContext): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ctx.runtime.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${DOCKER_PING_TIMEOUT_MS} ms`)),
          DOCKER_PING_TIMEOUT_MS,
        );
      }),
    ]);
    return "ok";
  } catch (error) {
    return (error as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

/** Free space where the state, manifests and blobs live, and whether the last state write worked. */
function diskStatus(ctx: WorkerContext) {
  let freeBytes: number | undefined;
  try {
    const fs = statfsSync(ctx.config.dataDir);
    freeBytes = fs.bavail * fs.bsize;
  } catch {
    freeBytes = undefined;
  }
  const saveError = ctx.state.saveError;
  return {
    ok: freeBytes !== undefined && freeBytes >= MIN_FREE_DISK_BYTES && saveError === undefined,
    freeBytes: freeBytes ?? null,
    ...(saveError ? { stateWriteError: saveError } : {}),
  };
}

function updateGauges(ctx: WorkerContext, dockerOk: boolean) {
  ctx.metrics.chainReachable.set(ctx.follower.healthy ? 1 : 0);
  ctx.metrics.chainHeadAgeSeconds.set(ctx.follower.headAgeSec);
  ctx.metrics.dockerReachable.set(dockerOk ? 1 : 0);
}
