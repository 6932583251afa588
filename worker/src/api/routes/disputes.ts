import { providerApiRoutes } from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { readEvidence } from "../../market/disputes.js";
import type { ApiDeps } from "../deps.js";
import { HttpError } from "../http-error.js";

/** GET /v1/disputes/:id/evidence: the evidence document this provider answered a dispute with. */
export function disputeRoutes({ ctx }: ApiDeps) {
  const app = new Hono();

  // Public, like the on-chain URI that points here: the exact bytes whose keccak256 the answer committed to.
  app.on(providerApiRoutes.disputeEvidence.method, providerApiRoutes.disputeEvidence.pattern, (c) => {
    const body = readEvidence(ctx, c.req.param("id"));
    if (body === undefined) throw new HttpError(404, `no evidence for dispute ${c.req.param("id")}`);
    return c.body(body, 200, { "content-type": "application/json" });
  });

  return app;
}
