import type { IncomingMessage } from "node:http";
import {
  type PodEventsResponse,
  type PodStatusResponse,
  type PodUsageResponse,
  providerApiRoutes,
} from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { currentFdBudget } from "../../net/fd-budget.js";
import { StreamSlots } from "../../net/stream-slots.js";
import type { ApiDeps } from "../deps.js";
import { HttpError } from "../http-error.js";
import { LeaseContainers } from "../lease-containers.js";

/** A lease's pod as its publisher sees it: GET /v1/leases/:id (status), .../events, .../usage and .../logs. */
export function leaseRoutes({ ctx, reconciler, ingressRoutes, auth }: ApiDeps) {
  const app = new Hono();
  // Each follow holds an API connection and a Docker connection for as long as the client stays: capped per lease and
  // in total (a quarter of the descriptors kept for Docker, net/fd-budget.ts).
  const follows = new StreamSlots(ctx.config.maxLogFollowsPerLease, currentFdBudget(ctx.config).logFollows);
  const leaseContainers = new LeaseContainers((leaseId) => ctx.runtime.listContainers({ leaseId }));

  app.on(providerApiRoutes.status.method, providerApiRoutes.status.pattern, async (c) => {
    const { leaseId, lease } = await auth.authorize(c);
    const id = leaseId.toString();
    const record = ctx.state.data.leases[id];
    // Docker lists just this lease's containers (a label filter), at most once a second (lease-containers.ts).
    const containers = await leaseContainers.of(leaseId);
    const stored = reconciler.desired(record);
    const ingressBase = `:${ctx.config.ingressPort}`;
    const body: PodStatusResponse = {
      leaseId: id,
      publisher: lease.publisher,
      specHash: lease.specHash,
      status: lease.status === 1 ? "active" : "closed",
      runsOutAt: record?.runsOutAt ?? null,
      pod: reconciler.phases.get(id) ?? { phase: lease.status === 1 ? "waiting-manifest" : "stopped" },
      manifestSpecHash: stored?.specHash ?? null,
      containers: containers.map((x) => ({
        name: x.container,
        replica: x.replica,
        specHash: x.specHash,
        state: x.state,
        image: x.image,
      })),
      http: ingressRoutes.hostsOf(id).map((host) => ({ host, url: `http://${host}${ingressBase}/` })),
      tcp: stored
        ? stored.manifest.expose.tcp.flatMap((e) =>
            containers.flatMap((x) => {
              const hostPort = x.tcpPorts[e.port];
              return x.container === e.container && x.specHash === stored.specHash && hostPort !== undefined
                ? [{ container: e.container, port: e.port, replica: x.replica, hostPort }]
                : [];
            }),
          )
        : [],
      events: (ctx.state.data.events[id] ?? []).slice(-20),
    };
    return c.json(body);
  });

  app.on(providerApiRoutes.events.method, providerApiRoutes.events.pattern, async (c) => {
    const { leaseId } = await auth.authorize(c);
    const body: PodEventsResponse = { events: ctx.state.data.events[leaseId.toString()] ?? [] };
    return c.json(body);
  });

  app.on(providerApiRoutes.usage.method, providerApiRoutes.usage.pattern, async (c) => {
    const { leaseId } = await auth.authorize(c);
    const containers = (await ctx.runtime.listContainers({ leaseId })).filter((x) => x.state === "running");
    const usage = await Promise.all(
      containers.map(async (x) => {
        const s = await ctx.runtime.stats(x.id);
        return { name: x.container, replica: x.replica, ...s, cpuNanos: s.cpuNanos.toString() };
      }),
    );
    const body: PodUsageResponse = { leaseId: leaseId.toString(), containers: usage };
    return c.json(body);
  });

  app.on(providerApiRoutes.logs.method, providerApiRoutes.logs.pattern, async (c) => {
    const { leaseId } = await auth.authorize(c);
    const name = c.req.query("container");
    const replica = Number(c.req.query("replica") ?? "0");
    const tailText = c.req.query("tail") ?? "100";
    if (!/^\d{1,6}$/.test(tailText)) throw new HttpError(400, "tail: must be a whole number of lines");
    const follow = c.req.query("follow") === "true" || c.req.query("follow") === "1";
    const candidates = (await ctx.runtime.listContainers()).filter(
      (x) => x.leaseId === leaseId && (name === undefined || x.container === name) && x.replica === replica,
    );
    const stored = reconciler.desired(ctx.state.data.leases[leaseId.toString()]);
    const target =
      candidates.find((x) => x.specHash === stored?.specHash) ??
      candidates.sort((a, b) => b.createdAt - a.createdAt)[0];
    if (!target)
      throw new HttpError(404, `container: no container ${name ?? ""} (replica ${replica}) in lease ${leaseId}`);
    const slot = follow ? follows.take(`lease ${leaseId}`) : { release: () => undefined };
    if ("refused" in slot) throw new HttpError(429, `follow: ${slot.refused}; close one first`);
    // A quiet container may print nothing for minutes: a follow is exempt from the API's idle deadline.
    if (follow) (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.setTimeout(0);
    const abort = new AbortController();
    abort.signal.addEventListener("abort", slot.release);
    const lines = ctx.runtime.logs(target.id, { tail: Number(tailText), follow, signal: abort.signal });
    const iterator = lines[Symbol.asyncIterator]();
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { value, done } = await iterator.next();
          if (done) {
            slot.release();
            controller.close();
          } else controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
        } catch {
          slot.release();
          controller.close();
        }
      },
      cancel() {
        abort.abort();
      },
    });
    c.req.raw.signal.addEventListener("abort", () => abort.abort());
    return new Response(body, { headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" } });
  });

  return app;
}
