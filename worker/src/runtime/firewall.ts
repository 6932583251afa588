/**
 * The pods' egress firewall, owned by the worker (iptables, filter table). Docker isolates bridge networks from each
 * other but lets a pod reach everything else: the host on its network's gateway address (the worker API, the ingress,
 * a local RPC node, anything listening on 0.0.0.0), the provider's LAN and the cloud metadata service. Per worker
 * instance (`<p6>`: the provider's first 6 hex digits, `<tag>`: the instance tag, see runtime/names.ts):
 *
 *   INPUT       -> PODNET-<p6>-<tag>-IN    per pod subnet: replies to connections the host opened pass, the rest is
 *                                          dropped
 *   DOCKER-USER -> PODNET-<p6>-<tag>-FWD   per pod subnet: its own network passes, everything else goes through ...-POD
 *                  PODNET-<p6>-<tag>-POD   replies pass; private, loopback, link-local (169.254.0.0/16, cloud
 *                                          metadata), CGNAT, multicast and reserved ranges and the pod pool are
 *                                          dropped; the public internet passes unless `podEgress` is `none`
 *   ...-IN      -> PODNET-<p6>-<tag>-HOST  only with `podEgressAllow`: from the pod pool, TCP to exactly the listed
 *                                          ip:port pairs on the host is accepted; the same pairs pass ...-POD when
 *                                          forwarded
 *
 * Per instance, not per provider: two workers of one key on one engine (two chains) would otherwise refill each
 * other's policy chain with their own `podEgress`, and each would drop the other's pod subnets as stale at start,
 * leaving those pods unfiltered. The provider part lets a test harness find every chain of a key (PODNET-<p6>-...).
 *
 * The base chains are (re)installed at start, so a reboot's empty tables are restored before any pod runs; a pod
 * subnet's rules are added when its network is made and removed with it. DOCKER-USER is the chain Docker leaves to
 * the operator: Docker jumps to it first from FORWARD and never flushes it, even across its own restarts.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { namePrefix, type WorkerInstance } from "./names.js";

const exec = promisify(execFile);

/** Destinations no pod may reach: RFC 1918, loopback, link-local (incl. metadata), CGNAT, multicast, reserved. */
export const BLOCKED_RANGES = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "224.0.0.0/4",
  "240.0.0.0/4",
] as const;

const ESTABLISHED = ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"];

/** Runs one iptables command; resolves with whether it succeeded (a `-C` that finds nothing "fails"). */
export type IptablesRunner = (args: string[]) => Promise<boolean>;

const iptables: IptablesRunner = (args) =>
  exec("iptables", ["-w", ...args]).then(
    () => true,
    () => false,
  );

/**
 * The filter table as `iptables -S` prints it: `-P <builtin> <policy>`, `-N <chain>` and `-A <chain> <rule>` lines.
 * One process reads every chain: the firewall decides from it what to change, instead of asking a process per rule.
 */
export type IptablesSaver = () => Promise<string[]>;

export const saveRules: IptablesSaver = () =>
  exec("iptables", ["-w", "-S"], { maxBuffer: 64 * 1024 * 1024 }).then(({ stdout }) =>
    stdout.split("\n").filter((line) => line !== ""),
  );

/**
 * Applies iptables commands (`-N`, `-F`, `-A`, `-I`, `-D`, each as the arguments of one `iptables` call) in one
 * `iptables-restore --noflush` transaction: all of them or none. A worker's start took about 45 iptables processes,
 * each a fork of the worker (tens of milliseconds of its CPU apiece, the most of its start-up after loading its code);
 * and the policy chain, flushed and refilled in one commit, is never seen empty.
 * @throws {Error} with iptables-restore's message when the transaction is refused.
 */
export type IptablesRestorer = (commands: string[][]) => Promise<void>;

export const restoreRules: IptablesRestorer = (commands) =>
  new Promise((resolve, reject) => {
    const child = spawn("iptables-restore", ["-w", "--noflush"], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", (error) => reject(new Error(`firewall: iptables-restore: ${error.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`firewall: iptables-restore refused ${commands.length} commands: ${stderr.trim()}`));
    });
    child.stdin.end(`*filter\n${commands.map((args) => args.join(" ")).join("\n")}\nCOMMIT\n`);
  });

/** The user chains (`-N`) and built-in ones (`-P`) of a {@link IptablesSaver} listing. */
function chainsOf(lines: readonly string[]): Set<string> {
  return new Set(lines.filter((l) => l.startsWith("-N ") || l.startsWith("-P ")).map((l) => l.split(" ")[1] as string));
}

/** How many times `rule` (`[chain, ...args]`) is in a listing. */
function copiesOf(lines: readonly string[], rule: readonly string[]): number {
  const line = `-A ${rule.join(" ")}`;
  return lines.filter((l) => l === line).length;
}

/** The commands that delete every copy of `rule` in a listing (a rule added twice, by two workers racing, goes entirely). */
function deleteEveryCopy(lines: readonly string[], rule: readonly string[]): string[][] {
  return Array.from({ length: copiesOf(lines, rule) }, () => ["-D", ...rule]);
}

/**
 * The commands that remove the chains `isOurs` picks from a listing, as one {@link IptablesRestorer} transaction: every
 * rule of another chain that jumps (or goes) to one of them, each copy, then each chain flushed (the jumps between them
 * go with their rules) and deleted. Empty when the listing has none of them. A worker leaves its chains when it stops
 * (its pods stay isolated across a restart); this is for whoever retires an instance for good (the test harness after
 * each provider: one read and one transaction, where a process per rule took about 17 processes a provider).
 */
export function removeChainsCommands(lines: readonly string[], isOurs: (chain: string) => boolean): string[][] {
  const ours = lines.flatMap((line) => (line.startsWith("-N ") && isOurs(line.slice(3)) ? [line.slice(3)] : []));
  if (ours.length === 0) return [];
  const set = new Set(ours);
  const jumps = lines.flatMap((line) => {
    const rule = /^-A (\S+) (.*)$/.exec(line);
    const target = / -[jg] (\S+)(?: |$)/.exec(line)?.[1];
    return rule && !set.has(rule[1] as string) && target !== undefined && set.has(target) ? [rule] : [];
  });
  return [
    ...jumps.map((rule) => ["-D", rule[1] as string, rule[2] as string]),
    ...ours.map((chain) => ["-F", chain]),
    ...ours.map((chain) => ["-X", chain]),
  ];
}

/** One `ip:port` pods may reach although the policy drops its range (TCP only). */
export interface EgressAllowEntry {
  ip: string;
  port: number;
}

/** Ranges an allow-list entry may not name: "any address", link-local (cloud metadata), multicast, reserved. */
const NEVER_ALLOWED: readonly [number, number][] = [
  [0x00000000, 8], // 0.0.0.0/8: "this host" / any address
  [0xa9fe0000, 16], // 169.254.0.0/16: link-local, the cloud metadata service
  [0xe0000000, 4], // 224.0.0.0/4: multicast
  [0xf0000000, 4], // 240.0.0.0/4: reserved, broadcast
];

const IPV4_PORT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;

/**
 * Parses one `podEgressAllow` entry: an IPv4 literal and a TCP port (`172.17.0.1:8545`). Names, CIDR ranges, port
 * ranges, IPv6 and addresses no service can be meant by (any, link-local/metadata, multicast, reserved) are refused
 * with the reason: the opening is one address and one port, never more.
 * @throws {Error} saying what is wrong with the entry.
 */
export function parseEgressAllowEntry(text: string): EgressAllowEntry {
  const match = IPV4_PORT.exec(text);
  if (!match) throw new Error(`"${text}" is not ipv4:port (one IPv4 address and one TCP port, e.g. 172.17.0.1:8545)`);
  const octets = match.slice(1, 5).map((o) => (o.length > 1 && o.startsWith("0") ? Number.NaN : Number(o)));
  if (octets.some((o) => !(o >= 0 && o <= 255))) throw new Error(`"${text}": not an IPv4 address`);
  const port = Number(match[5]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`"${text}": port must be 1 to 65535`);
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  for (const [base, bits] of NEVER_ALLOWED) {
    if (Math.floor(value / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits))) {
      throw new Error(
        `"${text}": any-address, link-local (metadata), multicast and reserved addresses cannot be allowed`,
      );
    }
  }
  return { ip: octets.join("."), port };
}

/** Options of {@link PodFirewall}. */
export interface PodFirewallOptions {
  /** Whose pods: names the chains. */
  instance: WorkerInstance;
  /** The pod network pool (CIDR): dropped as a destination even when it is not a private range. */
  pool: string;
  /** `public`: pods reach the internet; `none`: nothing outside their own network. */
  egress: "public" | "none";
  /**
   * `ip:port` pairs (TCP) pods may reach on the host or a private network although the policy drops them: an operator's
   * explicit opening (a devnet's chain and indexer). Empty: none. With `egress: none` they stay open too.
   */
  allow?: readonly EgressAllowEntry[];
  run?: IptablesRunner;
  save?: IptablesSaver;
  restore?: IptablesRestorer;
}

/**
 * The iptables chains of one worker instance: `PODNET-<p6>-<TAG>-<IN|FWD|POD|HOST>`, at most 27 characters (iptables
 * allows 28).
 */
export function firewallChains(instance: WorkerInstance): PodFirewall["chains"] {
  namePrefix(instance);
  const base = `PODNET-${instance.provider.slice(2, 8)}-${instance.tag}`.toUpperCase();
  return { input: `${base}-IN`, forward: `${base}-FWD`, pod: `${base}-POD`, host: `${base}-HOST` };
}

/** One worker instance's pod firewall; see the module comment for the chains. */
export class PodFirewall {
  readonly chains: { input: string; forward: string; pod: string; host: string };
  readonly #opts: PodFirewallOptions;
  readonly #run: IptablesRunner;
  readonly #save: IptablesSaver;
  readonly #restore: IptablesRestorer;
  /** Subnets whose rules this process installed or found: every pod start asks, iptables need not answer each time. */
  readonly #known = new Set<string>();

  constructor(opts: PodFirewallOptions) {
    this.chains = firewallChains(opts.instance);
    this.#opts = opts;
    this.#run = opts.run ?? iptables;
    this.#save = opts.save ?? saveRules;
    this.#restore = opts.restore ?? restoreRules;
  }

  /** Whether iptables can be driven here (root, the binary, Docker's DOCKER-USER chain). */
  async available(): Promise<boolean> {
    return this.#run(["-n", "-L", "DOCKER-USER"]);
  }

  /**
   * Creates the chains and their jumps when missing and refills the policy chain (so a changed `podEgress` takes
   * effect at the next start), from one read of the table and in one transaction. Idempotent.
   * @throws {Error} with iptables-restore's message when the transaction is refused.
   */
  async install(): Promise<void> {
    const { input, forward, pod } = this.chains;
    const present = await this.#save();
    const chains = chainsOf(present);
    const commands: string[][] = [];
    for (const chain of [input, forward, pod]) {
      if (!chains.has(chain)) commands.push(["-N", chain]);
    }
    for (const [parent, chain] of [
      ["INPUT", input],
      ["DOCKER-USER", forward],
    ] as const) {
      if (copiesOf(present, [parent, "-j", chain]) === 0) commands.push(["-I", parent, "1", "-j", chain]);
    }
    commands.push(["-F", pod]);
    for (const rule of this.policyRules()) commands.push(["-A", pod, ...rule]);
    commands.push(...this.#hostAllowCommands(present, chains));
    await this.#restore(commands);
  }

  /**
   * The host side of the allow-list: its own chain, refilled at every start, jumped to first from ...-IN for the pod
   * pool. With an empty list the jump goes (a removed entry closes at the next start) and the chain stays empty.
   */
  #hostAllowCommands(present: readonly string[], chains: ReadonlySet<string>): string[][] {
    const { input, host } = this.chains;
    const jump = [input, "-s", this.#opts.pool, "-j", host];
    const allow = this.#opts.allow ?? [];
    const commands: string[][] = [];
    if (!chains.has(host)) {
      if (allow.length === 0) return commands;
      commands.push(["-N", host]);
    }
    commands.push(["-F", host]);
    if (allow.length === 0) {
      commands.push(...deleteEveryCopy(present, jump));
      return commands;
    }
    for (const rule of this.hostAllowRules()) commands.push(["-A", host, ...rule]);
    if (copiesOf(present, jump) === 0) commands.push(["-I", input, "1", "-s", this.#opts.pool, "-j", host]);
    return commands;
  }

  /** The allow-list's rules in ...-HOST: exactly one address and one TCP port each. */
  hostAllowRules(): string[][] {
    return (this.#opts.allow ?? []).map(({ ip, port }) => [
      "-p",
      "tcp",
      "-d",
      `${ip}/32`,
      "--dport",
      String(port),
      "-j",
      "ACCEPT",
    ]);
  }

  /** The policy chain's rules, in order (without the chain name). */
  policyRules(): string[][] {
    const rules = [[...ESTABLISHED, "-j", "RETURN"]];
    // The operator's explicit openings go before the drops; RETURN hands them back to Docker's own forwarding rules.
    for (const { ip, port } of this.#opts.allow ?? []) {
      rules.push(["-p", "tcp", "-d", `${ip}/32`, "--dport", String(port), "-j", "RETURN"]);
    }
    for (const range of BLOCKED_RANGES) rules.push(["-d", range, "-j", "DROP"]);
    rules.push(["-d", this.#opts.pool, "-j", "DROP"]);
    if (this.#opts.egress === "none") rules.push(["-j", "DROP"]);
    return rules;
  }

  /** The rules of one pod subnet, as `[chain, ...rule]`, in the order they are added. */
  subnetRules(subnet: string): string[][] {
    const { input, forward, pod } = this.chains;
    return [
      [forward, "-s", subnet, "-d", subnet, "-j", "RETURN"],
      [forward, "-s", subnet, "-j", pod],
      [input, "-s", subnet, ...ESTABLISHED, "-j", "RETURN"],
      [input, "-s", subnet, "-j", "DROP"],
    ];
  }

  /** Adds a pod subnet's rules unless they are there: one read of the table, one transaction for the missing ones. */
  async addSubnet(subnet: string): Promise<void> {
    if (this.#known.has(subnet)) return;
    const commands = this.#addMissing(await this.#save(), subnet);
    if (commands.length > 0) await this.#restore(commands);
    this.#known.add(subnet);
  }

  /** The commands that add a subnet's rules missing from a listing, in order. */
  #addMissing(present: readonly string[], subnet: string): string[][] {
    return this.subnetRules(subnet)
      .filter((rule) => copiesOf(present, rule) === 0)
      .map((rule) => ["-A", ...rule]);
  }

  /** The commands that delete every copy of a subnet's rules in a listing. */
  #deleteAll(present: readonly string[], subnet: string): string[][] {
    return this.subnetRules(subnet).flatMap((rule) => deleteEveryCopy(present, rule));
  }

  /** The pod subnets that have rules in a listing (from the forward chain's). */
  #subnetsIn(present: readonly string[]): string[] {
    const rules = present.filter((line) => line.startsWith(`-A ${this.chains.forward} `)).join("\n");
    return [...new Set([...rules.matchAll(/ -s (\S+) /g)].map((match) => match[1] as string))];
  }

  /**
   * Leaves rules for exactly `subnets` (a restart: the subnets of the networks the instance still has), from one read
   * of the table and in one transaction: a subnet whose rules are all there costs nothing, so a worker with 200 pods
   * restarts without a process per pod.
   */
  async sync(subnets: Iterable<string>): Promise<void> {
    const wanted = new Set(subnets);
    const present = await this.#save();
    const commands: string[][] = [];
    const added: string[] = [];
    for (const subnet of wanted) {
      if (this.#known.has(subnet)) continue;
      commands.push(...this.#addMissing(present, subnet));
      added.push(subnet);
    }
    for (const subnet of this.#subnetsIn(present)) {
      if (wanted.has(subnet)) continue;
      this.#known.delete(subnet);
      commands.push(...this.#deleteAll(present, subnet));
    }
    if (commands.length > 0) await this.#restore(commands);
    for (const subnet of added) this.#known.add(subnet);
  }

  /** Removes a pod subnet's rules (every copy of each that is there), in one transaction. */
  async removeSubnet(subnet: string): Promise<void> {
    this.#known.delete(subnet);
    const commands = this.#deleteAll(await this.#save(), subnet);
    if (commands.length > 0) await this.#restore(commands);
  }
}
