import type { PodManifest } from "@podnet/sdk/protocol";

export interface HttpRoute {
  leaseId: string;
  container: string;
  port: number;
  /** 127.0.0.1:<host port> of each replica. */
  targets: string[];
}

/** The replicas' addresses of a lease's container port. */
type Targets = (container: string, port: number) => string[];

/** A Host header as the table keys it: without its port, in lower case. */
function normalizedHost(hostHeader: string): string {
  return hostHeader.replace(/:\d+$/, "").toLowerCase();
}

/**
 * Host name → pod, for the ingress. Every HTTP expose gets `l<lease>-<container>-<port>.<domain>`, the first one also
 * `l<lease>.<domain>`, and a custom `host` from the manifest once `hostProven` says the lease holds it (a DNS proof,
 * see host-proofs.ts).
 */
export class RouteTable {
  private readonly byHost = new Map<string, HttpRoute & { next: number }>();
  private readonly hostsByLease = new Map<string, string[]>();
  /** Custom hosts a lease declares and has not proven yet, with what {@link set} needs to route them once proven. */
  private readonly awaiting = new Map<string, { leaseId: string; manifest: PodManifest; targets: Targets }>();
  /** The proof lookup in flight per awaited host: the requests that wait for it share it. */
  private readonly proving = new Map<string, Promise<void>>();

  constructor(
    private readonly domain: string,
    /** Whether a custom host belongs to a lease; default: no custom host is routed. */
    private readonly hostProven: (host: string, leaseId: string) => boolean = () => false,
    /** Looks a custom host's proof up now; whether it holds (host-proofs.ts `proveNow`). Default: never. */
    private readonly proveNow: (host: string, leaseId: string) => Promise<boolean> = async () => false,
  ) {}

  /** Whether a manifest's custom host may be routed at all: names under the ingress domain are the provider's. */
  private isCustom(host: string | undefined): host is string {
    return host !== undefined && host !== this.domain && !host.endsWith(`.${this.domain}`);
  }

  hostsFor(leaseId: string, manifest: PodManifest): { host: string; container: string; port: number }[] {
    const hosts: { host: string; container: string; port: number }[] = [];
    manifest.expose.http.forEach((e, i) => {
      if (i === 0) hosts.push({ host: `l${leaseId}.${this.domain}`, container: e.container, port: e.port });
      hosts.push({ host: `l${leaseId}-${e.container}-${e.port}.${this.domain}`, container: e.container, port: e.port });
      // Names under the ingress domain are the provider's to hand out (l<lease>...): a manifest cannot claim them.
      if (this.isCustom(e.host) && this.hostProven(e.host, leaseId)) {
        hosts.push({ host: e.host, container: e.container, port: e.port });
      }
    });
    return hosts;
  }

  /** Replaces a lease's routes; `targets(container, port)` gives the replicas' addresses. */
  set(leaseId: string, manifest: PodManifest, targets: Targets) {
    this.remove(leaseId);
    const hosts = this.hostsFor(leaseId, manifest);
    for (const e of manifest.expose.http) {
      if (this.isCustom(e.host) && !hosts.some((h) => h.host === e.host)) {
        this.awaiting.set(e.host, { leaseId, manifest, targets });
      }
    }
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
    for (const [host, waiting] of this.awaiting) if (waiting.leaseId === leaseId) this.awaiting.delete(host);
    // Only hosts this lease still holds: a custom host that another lease's generated name took over stays with it.
    for (const host of this.hostsByLease.get(leaseId) ?? []) {
      if (this.byHost.get(host)?.leaseId === leaseId) this.byHost.delete(host);
    }
    this.hostsByLease.delete(leaseId);
  }

  /**
   * Whether a request's Host header names a custom host that a lease here declares and has not proven yet: the
   * ingress then has it looked up at once ({@link proveOnDemand}) rather than answering 404 until the next reconcile
   * pass looks. Any other unknown host asks for nothing.
   */
  awaitsProof(hostHeader: string | undefined): hostHeader is string {
    return hostHeader !== undefined && this.awaiting.has(normalizedHost(hostHeader));
  }

  /**
   * Looks the awaited host's proof up now (one lookup in flight per host, shared by the requests that wait; host-proofs
   * bounds how often) and routes the host when the proof holds. Never rejects.
   */
  proveOnDemand(hostHeader: string): Promise<void> {
    const host = normalizedHost(hostHeader);
    const waiting = this.awaiting.get(host);
    if (!waiting) return Promise.resolve();
    let lookup = this.proving.get(host);
    if (!lookup) {
      lookup = this.proveNow(host, waiting.leaseId)
        .then(
          (proven) => {
            // Unless the lease was removed or set again meanwhile (a newer set already saw the proof).
            if (proven && this.awaiting.get(host) === waiting)
              this.set(waiting.leaseId, waiting.manifest, waiting.targets);
          },
          () => undefined,
        )
        .finally(() => this.proving.delete(host));
      this.proving.set(host, lookup);
    }
    return lookup;
  }

  /** The next replica for a request's Host header (round robin), or undefined when no pod serves that host. */
  resolve(hostHeader: string | undefined): string | undefined {
    return this.route(hostHeader)?.target;
  }

  /** Like {@link resolve}, with the lease whose pod serves the host (the ingress counts upgrades per lease). */
  route(hostHeader: string | undefined): { leaseId: string; target: string } | undefined {
    if (!hostHeader) return undefined;
    const route = this.byHost.get(normalizedHost(hostHeader));
    if (!route || route.targets.length === 0) return undefined;
    const target = route.targets[route.next % route.targets.length] as string;
    route.next++;
    return { leaseId: route.leaseId, target };
  }

  /** The lease whose pod serves a request's Host header, whether or not it has a replica to forward to now. */
  leaseFor(hostHeader: string | undefined): string | undefined {
    if (!hostHeader) return undefined;
    return this.byHost.get(normalizedHost(hostHeader))?.leaseId;
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
