import { type AttestationDocument, providerApiRoutes } from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { QuoteNonces } from "../../store/quote-nonces.js";
import { MAX_QUOTE_BODY, readJson } from "../body.js";
import type { ApiDeps } from "../deps.js";
import { HttpError } from "../http-error.js";
import { attestationDocument, signQuote } from "../quote.js";
import { SourceRateLimiter } from "../rate-limit.js";

/** GET /v1/attestation and POST /v1/quote: what the provider states about its machine, and signed quotes. */
export function quoteRoutes({ ctx, limits }: ApiDeps) {
  const app = new Hono();
  const startedAt = Math.floor(Date.now() / 1000);
  const nonces = new QuoteNonces(ctx.state);
  // One bucket for the whole worker (see ApiLimits.quotesPerSecond), taken only for a quote about to be signed.
  const signatures = new SourceRateLimiter({ perSecond: limits.quotesPerSecond, burst: limits.quotesPerSecond || 1 });
  const mayIssue = () => {
    const wait = signatures.take("quotes");
    if (wait !== undefined) {
      throw HttpError.later(
        503,
        `quotes: this provider signs at most ${limits.quotesPerSecond} a second, retry in ${wait} s`,
        wait,
      );
    }
  };
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
    const body = await readJson(c, MAX_QUOTE_BODY);
    return c.json(await signQuote(ctx, body, await getAttestation(), { nonces, mayIssue }));
  });

  return app;
}
