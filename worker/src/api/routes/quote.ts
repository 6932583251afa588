import { type AttestationDocument, providerApiRoutes } from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { readJson } from "../body.js";
import type { ApiDeps } from "../deps.js";
import { attestationDocument, signQuote } from "../quote.js";

/** GET /v1/attestation and POST /v1/quote: what the provider states about its machine, and signed quotes. */
export function quoteRoutes({ ctx }: ApiDeps) {
  const app = new Hono();
  const startedAt = Math.floor(Date.now() / 1000);
  // Built on first use and kept: issued at the worker's start, so the quotes of one run share one attestation hash.
  let document: AttestationDocument | undefined;
  const getAttestation = async () => {
    document ??= await attestationDocument(ctx, startedAt);
    return document;
  };

  app.on(providerApiRoutes.attestation.method, providerApiRoutes.attestation.pattern, async (c) =>
    c.json(await getAttestation()),
  );

  app.on(providerApiRoutes.quote.method, providerApiRoutes.quote.pattern, async (c) => {
    const body = await readJson(c);
    return c.json(await signQuote(ctx, body, await getAttestation()));
  });

  return app;
}
