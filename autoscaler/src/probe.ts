import { request } from "node:http";
import { connect } from "node:net";
import { type AppHealthCheck, type IngressAddress, PROBE_HEADER, PROBE_HEADER_VALUE } from "@podnet/sdk/protocol";
import type { ProbeResult } from "./state.js";

/**
 * Health probes through the provider's ingress, as app.yaml's `health` says: an HTTP GET of `path` on the pod's
 * route (2xx or 3xx is healthy), or a TCP connect to the pod's published port. HTTP probes carry the protocol's probe
 * header (protocol/ingress-headers.ts), so they never keep a scale-to-zero pod awake nor wake it.
 */

/**
 * Where a host name connects: `*.localhost` names are loopback by definition (RFC 6761), which the system resolver
 * does not always know; a local marketplace routes its pods as `l<lease>.pods.localhost`. `localhostAddress` (config
 * `localhostAddress`, default 127.0.0.1) is where such names go instead: in a pod, loopback is the pod itself, and a
 * devnet's ingresses listen on a host bridge address (docs/autoscaler-sidecar.md).
 */
export function connectHost(hostname: string, localhostAddress = "127.0.0.1"): string {
  return hostname === "localhost" || hostname.endsWith(".localhost") ? localhostAddress : hostname;
}

/**
 * Where a pod's route is reached: the provider's published ingress address and port when it published one (what App
 * DNS answers and clients reach), else the route's own host and port; the Host header is always the route's host.
 */
export function routeTarget(
  hostUrl: string,
  ingress: IngressAddress | null | undefined,
  localhostAddress?: string,
): { hostHeader: string; connectHost: string; connectPort: number } {
  const url = new URL(hostUrl);
  const published = ingress?.addresses[0];
  if (ingress && published !== undefined)
    return { hostHeader: url.host, connectHost: published, connectPort: ingress.port };
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return { hostHeader: url.host, connectHost: connectHost(url.hostname, localhostAddress), connectPort: port };
}

export function probeHttp(
  url: string,
  path: string,
  timeoutMs: number,
  localhostAddress?: string,
  ingress?: IngressAddress | null,
): Promise<ProbeResult> {
  const target = routeTarget(url, ingress, localhostAddress);
  return new Promise((resolve) => {
    const at = Date.now();
    const req = request(
      {
        host: target.connectHost,
        port: target.connectPort,
        path,
        method: "GET",
        // Marked as a probe: the ingress neither counts it as activity of a scale-to-zero pod nor wakes a sleeping
        // one for it (it answers 204 itself: the provider is up and the pod wakes on the next real request).
        headers: { host: target.hostHeader, [PROBE_HEADER]: PROBE_HEADER_VALUE },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve({ at, ok: status >= 200 && status < 400, detail: `HTTP ${status}` });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (error) => resolve({ at, ok: false, detail: error.message }));
    req.end();
  });
}

export function probeTcp(
  host: string,
  port: number,
  timeoutMs: number,
  localhostAddress?: string,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const at = Date.now();
    const socket = connect({ host: connectHost(host, localhostAddress), port, timeout: timeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      resolve({ at, ok: true, detail: "connected" });
    });
    socket.once("timeout", () => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)));
    socket.once("error", (error) => resolve({ at, ok: false, detail: error.message }));
  });
}

/** Probes one instance; `target` is what its pod's status said (null: not known yet, a failed probe). */
export async function probeInstance(
  health: AppHealthCheck,
  target: {
    httpUrl: string | null;
    tcp: { host: string; port: number } | null;
    /** The provider's published ingress: HTTP probes go there, as clients that App DNS answered do. */
    ingress?: IngressAddress | null;
  },
  localhostAddress?: string,
): Promise<ProbeResult> {
  const timeoutMs = health.timeout * 1000;
  if (health.type === "http") {
    if (!target.httpUrl) return { at: Date.now(), ok: false, detail: "no HTTP route known yet" };
    return probeHttp(target.httpUrl, health.path, timeoutMs, localhostAddress, target.ingress);
  }
  if (!target.tcp) return { at: Date.now(), ok: false, detail: `port ${health.port} not published yet` };
  return probeTcp(target.tcp.host, target.tcp.port, timeoutMs, localhostAddress);
}
