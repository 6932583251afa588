import { podnetMarketAbi } from "@podnet/sdk/protocol";
import { type Context, Hono } from "hono";
import { HttpError } from "../api/http-error.js";
import { revertName, sendContract } from "../chain/tx-queue.js";
import type { LeaseRecord } from "../store/worker-state.js";
import type { AdminRouteDeps } from "./deps.js";
import { jsonBody } from "./json-body.js";
import { leaseEarnings } from "./lease-money.js";

/** Log lines a request may ask for (`tail`), over all the pod's containers. */
export const MAX_LOG_TAIL = 5000;
const DEFAULT_LOG_TAIL = 200;
/** A stop reason goes into the lease's journal, which its publisher reads: one short line. */
const MAX_REASON_LENGTH = 200;

/**
 * The console's lease pages: GET /admin/v1/leases (the active leases with their money and live use),
 * GET /admin/v1/leases/:id (one lease, closed ones too, with its event journal), GET /admin/v1/leases/:id/logs (the
 * pod's recent log lines, from Docker: they answer while the chain is unreachable) and POST /admin/v1/leases/:id/stop
 * (scope `leases:stop`: tear the pod down and close the lease on chain, with a reason in its journal).
 */
export function leaseRoutes(deps: AdminRouteDeps) {
  const { ctx, guard } = deps;
  const app = new Hono();

  app.get("/admin/v1/leases", guard.require("read"), (c) =>
    c.json({
      leases: Object.values(ctx.state.data.leases)
        .filter((lease) => lease.status === "active")
        .map((lease) => leaseRow(deps, lease)),
    }),
  );

  app.get("/admin/v1/leases/:id", guard.require("read"), (c) => {
    const lease = knownLease(deps, c);
    return c.json({ lease: leaseRow(deps, lease), events: ctx.state.data.events[lease.id] ?? [] });
  });

  app.get("/admin/v1/leases/:id/logs", guard.require("read"), async (c) => {
    const lease = knownLease(deps, c);
    const tailText = c.req.query("tail") ?? String(DEFAULT_LOG_TAIL);
    if (!/^\d{1,4}$/.test(tailText) || Number(tailText) < 1 || Number(tailText) > MAX_LOG_TAIL) {
      throw new HttpError(400, `tail: must be a whole number of lines from 1 to ${MAX_LOG_TAIL}`);
    }
    return c.json({ lines: await podLogs(deps, lease.id, Number(tailText)) });
  });

  app.post("/admin/v1/leases/:id/stop", guard.require("leases:stop"), async (c) => {
    const lease = knownLease(deps, c);
    const { reason } = await jsonBody(c);
    if (typeof reason !== "string" || reason.trim() === "" || reason.length > MAX_REASON_LENGTH) {
      throw new HttpError(400, `reason: must be 1 to ${MAX_REASON_LENGTH} characters saying why the lease is stopped`);
    }
    if ([...reason].some((ch) => ch < " " || ch === "\u007f"))
      throw new HttpError(400, "reason: must be one line of printable text");
    if (lease.status !== "active") throw new HttpError(409, `lease ${lease.id}: already closed`);
    if (lease.ending) throw new HttpError(409, `lease ${lease.id}: already ending (${lease.ending})`);
    return c.json(await stopLease(deps, lease, reason.trim()));
  });

  return app;
}

/** The lease named by the path, or 404 naming it (also for another provider's lease: this worker has no record). */
function knownLease({ ctx }: AdminRouteDeps, c: Context): LeaseRecord {
  const id = c.req.param("id") ?? "";
  const lease = /^\d{1,78}$/.test(id) ? ctx.state.data.leases[id] : undefined;
  if (!lease) throw new HttpError(404, `lease ${id}: not a lease of this provider`);
  return lease;
}

function leaseRow({ ctx, reconciler, usage }: AdminRouteDeps, lease: LeaseRecord) {
  return {
    id: lease.id,
    publisher: lease.publisher,
    orderId: lease.orderId,
    pricePerSecond: lease.pricePerSecond,
    resources: lease.resources,
    startedAt: lease.startedAt,
    runsOutAt: lease.runsOutAt ?? null,
    status: lease.status,
    ...(lease.closedAt !== undefined ? { closedAt: lease.closedAt } : {}),
    ...(lease.ending ? { ending: lease.ending } : {}),
    phase: reconciler.phases.get(lease.id)?.phase ?? (lease.status === "active" ? "pending" : "stopped"),
    ...leaseEarnings(lease, ctx.chainNow(), ctx.state.data.lastWithdrawAt),
    usage: usage?.latest.leases[lease.id] ?? null,
  };
}

/** The newest `tail` lines over all the pod's containers, oldest first (Docker's timestamps order them). */
async function podLogs({ ctx }: AdminRouteDeps, leaseId: string, tail: number) {
  try {
    const containers = await ctx.runtime.listContainers({ leaseId: BigInt(leaseId) });
    const perContainer = await Promise.all(
      containers.map(async (container) => {
        const lines = [];
        for await (const record of ctx.runtime.logs(container.id, { tail, timestamps: true })) {
          const space = record.text.indexOf(" ");
          const at = Date.parse(record.text.slice(0, space));
          lines.push({
            container: container.container,
            replica: container.replica,
            stream: record.stream,
            at: Number.isNaN(at) ? null : at,
            text: record.text.slice(space + 1).replace(/\r?\n$/, ""),
          });
        }
        return lines;
      }),
    );
    // A stable sort keeps each container's own order for lines of the same millisecond.
    return perContainer
      .flat()
      .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
      .slice(-tail);
  } catch (error) {
    throw new HttpError(503, `docker: ${(error as Error).message.split("\n")[0]}`);
  }
}

/**
 * Ends a lease the way the money loop ends an unpaid one: mark it ending (the reconciler's teardown guard accepts
 * that as confirmed), journal the reason, tear the pod down, then close the lease on chain from the provider key. A
 * close that fails is tried again by the money loop's next pass (it closes every lease marked ending); the answer is
 * then a 409 naming the contract's error, the pod being stopped already.
 */
async function stopLease({ ctx, reconciler }: AdminRouteDeps, lease: LeaseRecord, reason: string) {
  lease.ending = "stopped-by-provider";
  ctx.state.recordEvent(lease.id, "stopped-by-provider", `the provider stopped this lease: ${reason}`);
  ctx.state.saveNow();
  ctx.log.child({ lease: lease.id }).info("lease stopped from the admin API", { reason });
  await ctx.reconcileLease(lease.id).catch(() => undefined);
  ctx.adminEvents.publish("leases", { leaseId: lease.id, ending: lease.ending });
  try {
    const receipt = await sendContract(ctx.chain, ctx.txs, `closeLease ${lease.id}`, {
      address: ctx.chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "closeLease",
      args: [BigInt(lease.id)],
    });
    ctx.adminEvents.publish("overview", { leaseClosed: lease.id });
    return {
      tx: receipt.transactionHash,
      leaseId: lease.id,
      reason,
      phase: reconciler.phases.get(lease.id)?.phase ?? "stopped",
    };
  } catch (error) {
    const name = revertName(error);
    // The money loop closes every ending lease too, and may have been first: closed is what was asked for.
    if (name === "MarketLeaseNotActive") {
      return { tx: null, leaseId: lease.id, reason, phase: reconciler.phases.get(lease.id)?.phase ?? "stopped" };
    }
    throw new HttpError(409, `closeLease: ${name} (the pod is stopped; the worker tries the close again)`);
  }
}
