import type { PodManifest } from "@podnet/sdk/protocol";

export interface HttpRoute {
  leaseId: string;
  container: string;
  port: number;
  /** 127.0.0.1:<host port> of each replica. */
  targets: string[];
}

/**
 * Host name → pod, for the ingress. Every HTTP expose gets `l<lease>-<container>-<port>.<domain>`, the first one also
 * `l<lease>.<domain>`, and a custom `host` from the manifest once `hostProven` says the lease holds it (a DNS proof,
 * see host-proofs.ts).
 */
export class RouteTable {
  private readonly byHost = new Map<string, HttpRoute & { next: number }>();
  private readonly hostsByLease = new Map<string, string[]>();

  constructor(
    private readonly domain: string,
    /** Whether a custom host belongs to a lease; default: no custom host is routed. */
    private readonly hostProven: (host: string, leaseId: string) => boolean = () => false,
  ) {}

  hostsFor(leaseId: string, manifest: PodManifest): { host: string; container: string; port: number }[] {
    const hosts: { host: string; container: string; port: number }[] = [];
    manifest.expose.http.forEach((e, i) => {
      if (i === 0) hosts.push({ host: `l${leaseId}.${this.domain}`, container: e.container, port: e.port });
      hosts.push({ host: `l${leaseId}-${e.container}-${e.port}.${this.domain}`, container: e.container, port: e.port });
      // Names under the ingress domain are the provider's to hand out (l<lease>...): a manifest cannot claim them.
      if (e.host && e.host !== this.domain && !e.host.endsWith(`.${this.domain}`) && this.hostProven(e.host, leaseId)) {
        hosts.push({ host: e.host, container: e.container, port: e.port });
      }
    });
    return hosts;
  }

  /** Replaces a lease's routes; `targets(container, port)` gives the replicas' addresses. */
  set(leaseId: string, manifest: PodManifest, targets: (container: string, port: number) => string[]) {
    this.remove(leaseId);
    const hosts = this.hostsFor(leaseId, manifest);
    for (const h of hosts) {
      this.byHost.set(h.host, {
        leaseId,
        container: h.container,
        port: h.port,
        targets: targets(h.container, h.port),
        next: 0,
      });
    }
    this.hostsByLease.set(
      leaseId,
      hosts.map((h) => h.host),
    );
  }

  remove(leaseId: string) {
    // Only hosts this lease still holds: a custom host that another lease's generated name took over stays with it.
    for (const host of this.hostsByLease.get(leaseId) ?? []) {
      if (this.byHost.get(host)?.leaseId === leaseId) this.byHost.delete(host);
    }
    this.hostsByLease.delete(leaseId);
  }

  /** The next replica for a request's Host header (round robin), or undefined when no pod serves that host. */
  resolve(hostHeader: string | undefined): string | undefined {
    return this.route(hostHeader)?.target;
  }

  /** Like {@link resolve}, with the lease whose pod serves the host (the ingress counts upgrades per lease). */
  route(hostHeader: string | undefined): { leaseId: string; target: string } | undefined {
    if (!hostHeader) return undefined;
    const host = hostHeader.replace(/:\d+$/, "").toLowerCase();
    const route = this.byHost.get(host);
    if (!route || route.targets.length === 0) return undefined;
    const target = route.targets[route.next % route.targets.length] as string;
    route.next++;
    return { leaseId: route.leaseId, target };
  }

  /** The lease whose pod serves a request's Host header, whether or not it has a replica to forward to now. */
  leaseFor(hostHeader: string | undefined): string | undefined {
    if (!hostHeader) return undefined;
    return this.byHost.get(hostHeader.replace(/:\d+$/, "").toLowerCase())?.leaseId;
  }

  /** Every replica address of a lease's routes (each once). */
  targetsOf(leaseId: string): string[] {
    const targets = new Set<string>();
    for (const host of this.hostsByLease.get(leaseId) ?? []) {
      const route = this.byHost.get(host);
      if (route?.leaseId === leaseId) for (const target of route.targets) targets.add(target);
    }
    return [...targets];
  }

  hostsOf(leaseId: string): string[] {
    return this.hostsByLease.get(leaseId) ?? [];
  }

  get size() {
    return this.byHost.size;
  }
}
