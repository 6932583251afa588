import { type AddressInfo, createServer, type Socket } from "node:net";
import { createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { describe, expect, it } from "vitest";
import { createPodnetBaseClient } from "../../client.js";
import { ProviderApiError } from "../../errors.js";
import { apiErrorBody, type Deployment, requestHeaders } from "../../protocol/index.js";
import { MAX_RETRY_WAIT_SECONDS, PROVIDER_RETRIES, providerFetch, retryAfterSeconds } from "./provider-api.js";

type Answer = { status: number; retryAfter?: string };
const provider = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const target = { provider, endpoint: "http://provider.test/" } as const;

/** A client whose provider answers with `answers` in turn (the last one repeats), recording each request's headers. */
function clientAnswering(answers: Answer[], seen: Headers[]) {
  const transport = http("http://127.0.0.1:9");
  return createPodnetBaseClient({
    publicClient: createPublicClient({ chain: foundry, transport }),
    walletClient: createWalletClient({
      chain: foundry,
      transport,
      account: privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
    }),
    deployment: { chainId: 31337, contracts: {} } as unknown as Deployment,
    blobCacheDir: "/nonexistent",
    fetch: async (_input, init) => {
      seen.push(new Headers(init?.headers));
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)] as Answer;
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (answer.retryAfter !== undefined) headers["retry-after"] = answer.retryAfter;
      const body = answer.status === 200 ? { ok: true } : apiErrorBody(answer.status, "slow down");
      return new Response(JSON.stringify(body), { status: answer.status, headers });
    },
  });
}

describe("providerFetch: 429 and 503 with Retry-After", () => {
  it("asks again after the provider's Retry-After, signing each attempt afresh", async () => {
    const seen: Headers[] = [];
    const client = clientAnswering(
      [{ status: 429, retryAfter: "1" }, { status: 503, retryAfter: "0" }, { status: 200 }],
      seen,
    );
    const started = Date.now();
    const response = await providerFetch(client, "test", target, { method: "GET", path: "/v1/leases/7", signed: true });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const nonces = new Set(seen.map((h) => h.get(requestHeaders.nonce)));
    expect(nonces.size).toBe(3);
  });

  it(`gives up after ${PROVIDER_RETRIES} retries with the status and the wait the provider asked for`, async () => {
    const seen: Headers[] = [];
    const client = clientAnswering([{ status: 429, retryAfter: "0" }], seen);
    const error = await providerFetch(client, "test", target, { method: "GET", path: "/v1/leases/7" }).catch((e) => e);
    expect(error).toBeInstanceOf(ProviderApiError);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 0 });
    expect(seen).toHaveLength(PROVIDER_RETRIES + 1);
  });

  it("does not wait longer than the cap, retry without Retry-After, retry other statuses, or resend a stream", async () => {
    for (const [answer, request] of [
      [{ status: 429, retryAfter: String(MAX_RETRY_WAIT_SECONDS + 1) }, {}],
      [{ status: 503 }, {}],
      [{ status: 500, retryAfter: "0" }, {}],
      [{ status: 429, retryAfter: "0" }, { unsignedBody: new Blob(["x"]).stream() }],
    ] as const) {
      const seen: Headers[] = [];
      const client = clientAnswering([answer], seen);
      const error = await providerFetch(client, "test", target, {
        method: "PUT",
        path: "/v1/blobs/x",
        ...request,
      }).catch((e) => e);
      expect(error, JSON.stringify(answer)).toMatchObject({ status: answer.status });
      expect(seen, JSON.stringify(answer)).toHaveLength(1);
    }
  });

  it("stops waiting when the caller aborts", async () => {
    const seen: Headers[] = [];
    const client = clientAnswering([{ status: 429, retryAfter: "5" }, { status: 200 }], seen);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user gave up")), 50);
    const error = await providerFetch(client, "test", target, {
      method: "GET",
      path: "/v1/leases/7",
      signal: controller.signal,
    }).catch((e) => e);
    expect((error as Error).message).toBe("user gave up");
    expect(seen).toHaveLength(1);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-12-03T07:00:00Z");
    expect(retryAfterSeconds("7", now)).toBe(7);
    expect(retryAfterSeconds("Thu, 03 Dec 2026 07:00:03 GMT", now)).toBe(3);
    expect(retryAfterSeconds("Thu, 03 Dec 2026 06:00:00 GMT", now)).toBe(0);
    expect(retryAfterSeconds(null, now)).toBeUndefined();
    expect(retryAfterSeconds("soon", now)).toBeUndefined();
    expect(retryAfterSeconds("-1", now)).toBeUndefined();
  });
});

describe("providerFetch: a provider that never answers", () => {
  /** A real TCP server that accepts connections and then says nothing: a hung or hostile provider. */
  async function silentServer(): Promise<{ endpoint: string; close: () => Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
      endpoint: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  }

  function realClient(providerTimeoutMs?: number) {
    const transport = http("http://127.0.0.1:9");
    return createPodnetBaseClient({
      publicClient: createPublicClient({ chain: foundry, transport }),
      deployment: { chainId: 31337, contracts: {} } as unknown as Deployment,
      blobCacheDir: "/nonexistent",
      ...(providerTimeoutMs !== undefined ? { providerTimeoutMs } : {}),
    });
  }

  it("gives up after the client's providerTimeoutMs with an error naming the wait", async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const error = await providerFetch(
        realClient(300),
        "test",
        { provider, endpoint: silent.endpoint },
        {
          method: "GET",
          path: "/v1/leases/7",
        },
      ).catch((e) => e);
      expect(error).toBeInstanceOf(ProviderApiError);
      expect(error).toMatchObject({ status: 0 });
      expect((error as Error).message).toMatch(/no answer within 300 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await silent.close();
    }
  });

  it("still lets the caller's own signal abort first", async () => {
    const silent = await silentServer();
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("user gave up")), 50);
      const error = await providerFetch(
        realClient(10_000),
        "test",
        { provider, endpoint: silent.endpoint },
        {
          method: "GET",
          path: "/v1/leases/7",
          signal: controller.signal,
        },
      ).catch((e) => e);
      expect((error as Error).message).toBe("user gave up");
    } finally {
      await silent.close();
    }
  });

  it("refuses a providerTimeoutMs that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => realClient(bad), String(bad)).toThrow(/providerTimeoutMs/);
    }
  });
});
