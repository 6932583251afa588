import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PROBE_HEADER, PROBE_HEADER_VALUE } from "@podnet/sdk/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectHost, probeHttp } from "./probe.js";

// A listener on another loopback address stands in for a devnet's ingress on a host bridge address, as seen from a
// pod (where 127.0.0.1 is the pod itself).
let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((request, response) => {
    // Stands in for an ingress whose pod sleeps: only a request marked as a probe is answered without waking it.
    if (request.headers.host?.startsWith("l8.")) {
      response.writeHead(request.headers[PROBE_HEADER] === PROBE_HEADER_VALUE ? 204 : 503).end();
      return;
    }
    response.writeHead(request.headers.host?.startsWith("l7.") ? 200 : 404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.2", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => server.close());

describe("probe: *.localhost targets", () => {
  it("connect to localhostAddress, keeping the route's Host header", async () => {
    const result = await probeHttp(`http://l7.pods.localhost:${port}/`, "/", 2_000, "127.0.0.2");
    expect(result).toMatchObject({ ok: true, detail: "HTTP 200" });
  });

  it("go to the provider's published ingress address and port when it published one (what App DNS answers)", async () => {
    // The route names another port on loopback; the published address is where clients (and probes) connect.
    const ingress = { addresses: ["127.0.0.2"], port };
    const result = await probeHttp("http://l7.pods.localhost:1/", "/", 2_000, undefined, ingress);
    expect(result).toMatchObject({ ok: true, detail: "HTTP 200" });
  });

  it("connect to 127.0.0.1 by default, which does not reach the listener", async () => {
    const result = await probeHttp(`http://l7.pods.localhost:${port}/`, "/", 2_000);
    expect(result.ok).toBe(false);
    expect(result.detail).toContain("ECONNREFUSED");
  });

  it("mark themselves with the probe header (an ingress answers them for a sleeping pod without waking it)", async () => {
    const result = await probeHttp(`http://l8.pods.localhost:${port}/`, "/", 2_000, "127.0.0.2");
    expect(result).toMatchObject({ ok: true, detail: "HTTP 204" });
  });

  it("leave other host names alone", () => {
    expect(connectHost("provider.example", "172.17.0.1")).toBe("provider.example");
    expect(connectHost("localhost", "172.17.0.1")).toBe("172.17.0.1");
  });
});
