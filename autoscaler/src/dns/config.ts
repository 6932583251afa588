import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { z } from "zod";

/**
 * podnet-dns configuration: one JSON file (`--config dns.json` or `PODNET_DNS_CONFIG`), the same on every node that
 * serves the zone. Validated once here; an error names the field (`apps.1.statusUrls.0: ...`). Names are written
 * without the trailing dot and compared in lower case; record names in `records` are relative to the zone (`www`,
 * `@` for the apex).
 */

/** A host name: dot-separated labels of letters, digits, `-` and `_`, 253 characters at most. */
const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;
const isHostName = (value: string) => value.length <= 253 && value.split(".").every((label) => LABEL.test(label));
const hostName = z
  .string()
  .transform((value) => value.toLowerCase().replace(/\.$/, ""))
  .refine(isHostName, "must be a host name (labels of a-z, 0-9, - and _, up to 253 characters)");
/** An app's label: the `<app>` of `<app>.<zone>`. */
const appName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be one DNS label: a-z, 0-9 and -");
const ip = z.string().refine((value) => isIP(value) !== 0, "must be an IPv4 or IPv6 address");
const ttl = z.number().int().min(0).max(604_800);
/** SOA timers are 32-bit seconds (expire is often two weeks, beyond a TTL's week). */
const seconds = z.number().int().min(0).max(2_147_483_647);
/** Strings of a TXT record: each at most 255 bytes (the wire limit of one character-string). */
const txtString = z.string().refine((value) => Buffer.byteLength(value) <= 255, "must be at most 255 bytes");

const staticRecord = z.discriminatedUnion("type", [
  z.strictObject({ name: z.string(), type: z.literal("A"), value: z.ipv4(), ttl: ttl.optional() }),
  z.strictObject({ name: z.string(), type: z.literal("AAAA"), value: z.ipv6(), ttl: ttl.optional() }),
  z.strictObject({ name: z.string(), type: z.literal("CNAME"), value: hostName, ttl: ttl.optional() }),
  z.strictObject({
    name: z.string(),
    type: z.literal("TXT"),
    value: z.union([txtString, z.array(txtString).min(1).max(16)]),
    ttl: ttl.optional(),
  }),
]);

const schema = z.strictObject({
  /** The zone this server is authoritative for, e.g. `apps.example.org`. */
  zone: hostName,
  /** Where to listen: one address (`0.0.0.0`, `::` for both families, `127.0.0.1`) and one port for UDP and TCP. */
  listen: z
    .strictObject({ host: ip.default("0.0.0.0"), port: z.number().int().min(0).max(65535).default(53) })
    .default({ host: "0.0.0.0", port: 53 }),
  /**
   * The zone's nameservers (NS at the apex), in the order of the registrar's NS records. A name inside the zone needs
   * its addresses: they are served as A/AAAA (the glue the parent zone holds too). A name outside has none here.
   */
  nameservers: z
    .array(z.strictObject({ name: hostName, addresses: z.array(ip).max(8).default([]) }))
    .min(1)
    .max(13),
  soa: z
    .strictObject({
      /** The primary nameserver's name; default the first of `nameservers`. */
      mname: hostName.optional(),
      /** The zone's contact as a mailbox, `hostmaster@example.org` or the DNS form `hostmaster.example.org`. */
      rname: z
        .string()
        .transform((value) => value.replace("@", "."))
        .pipe(hostName),
      refresh: seconds.default(3600),
      retry: seconds.default(600),
      expire: seconds.default(1_209_600),
      /** How long resolvers cache "no such name / no such record" (RFC 2308's negative TTL). */
      minimum: ttl.default(30),
    })
    .strict(),
  /** TTL of an app's A/AAAA answers: how long a resolver keeps an address after its instance failed. */
  ttl: ttl.max(3600).default(15),
  /** TTL of the NS, glue, SOA and `_podnet-lease` TXT records, and the default of `records`. */
  staticTtl: ttl.default(300),
  /** Only instances whose provider publishes its ingress on this port are answered (a name carries no port). */
  ingressPort: z.number().int().min(1).max(65535).default(80),
  /**
   * Answer provider addresses on loopback, private, link-local, multicast, reserved or unspecified ranges. Off: a
   * provider could otherwise point an app's name at a victim's internal network. Tests and the devnet turn it on.
   */
  allowPrivateAddresses: z.boolean().default(false),
  /** At most this many A (and as many AAAA) records per app name: more adds size, not availability. */
  maxAddresses: z.number().int().min(1).max(256).default(32),
  /** The apps: `<name>.<zone>` answers from the autoscalers' `GET /status` at these URLs. */
  apps: z
    .array(
      z.strictObject({
        name: appName,
        statusUrls: z
          .array(z.url({ protocol: /^https?$/ }))
          .min(1)
          .max(16),
      }),
    )
    .max(10_000)
    .default([]),
  /** Static records (www CNAME, verification TXT, ...). */
  records: z.array(staticRecord).max(10_000).default([]),
  /** Seconds between two polls of one status URL. */
  pollIntervalSec: z.number().min(0.05).max(3600).default(2),
  /** A status URL must answer within this many milliseconds. */
  statusTimeoutMs: z.number().int().min(50).max(60_000).default(2000),
  /**
   * A status URL that stops answering (or answers junk) keeps its last good answer this long; then its instances are
   * dropped (the name answers NODATA unless another URL of the app still answers).
   */
  staleAfterSec: z.number().min(1).max(86_400).default(600),
  /** Largest UDP answer with EDNS(0) (RFC 9715's 1232 avoids IP fragmentation); without EDNS it is 512. */
  maxUdpPayload: z.number().int().min(512).max(4096).default(1232),
  tcp: z
    .strictObject({
      /** A connection with no complete query for this long is closed (slow or idle clients). */
      idleTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      /** Connections beyond this are closed at once. */
      maxConnections: z.number().int().min(1).max(100_000).default(512),
    })
    .default({ idleTimeoutMs: 10_000, maxConnections: 512 }),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

/** What a network node's directory changes at run time: the apps and the zone's nameservers. */
const directorySchema = z.strictObject({ apps: schema.shape.apps, nameservers: schema.shape.nameservers });
export type DnsDirectory = z.output<typeof directorySchema>;
export type DnsDirectoryInput = z.input<typeof directorySchema>;

/** Validates a directory (apps and nameservers) as the configuration file's would be; errors name the field. */
export function parseDnsDirectory(input: unknown): DnsDirectory {
  const result = directorySchema.safeParse(input);
  if (!result.success) throw issuesError(result.error, "directory");
  return result.data;
}

/** One line per issue, each naming its field (`apps.0.statusUrls.0: Invalid URL`); `whole` names the root. */
function issuesError(error: z.ZodError, whole: string): DnsConfigError {
  return new DnsConfigError(
    error.issues.map((issue) => `${issue.path.map(String).join(".") || whole}: ${issue.message}`).join("\n"),
  );
}

export type DnsConfigInput = z.input<typeof schema>;
export type StaticRecord = z.output<typeof staticRecord>;
/** A validated configuration; `records[].name` are absolute (zone appended). */
export type DnsConfig = z.output<typeof schema> & { soa: { mname: string } };

export class DnsConfigError extends Error {
  override name = "DnsConfigError";
}

/** The configurations {@link parseDnsConfig} returned: given again, they are not parsed twice. */
const parsed = new WeakSet<object>();

/** Validates a configuration object; throws a {@link DnsConfigError} naming every bad field. */
export function parseDnsConfig(input: unknown): DnsConfig {
  if (typeof input === "object" && input !== null && parsed.has(input)) return input as DnsConfig;
  const result = schema.safeParse(input);
  if (!result.success) throw issuesError(result.error, "config");
  const config = result.data;
  const zone = config.zone;
  const inZone = (name: string) => name === zone || name.endsWith(`.${zone}`);
  const problems: string[] = [];
  config.nameservers.forEach((ns, i) => {
    if (inZone(ns.name) && ns.addresses.length === 0) {
      problems.push(`nameservers.${i}.addresses: ${ns.name} is inside the zone, so it needs its addresses (glue)`);
    }
    if (!inZone(ns.name) && ns.addresses.length > 0) {
      problems.push(`nameservers.${i}.addresses: ${ns.name} is outside the zone; its addresses are served by its own`);
    }
  });
  const apps = new Set<string>();
  config.apps.forEach((app, i) => {
    if (apps.has(app.name)) problems.push(`apps.${i}.name: ${app.name} is listed twice`);
    apps.add(app.name);
  });
  // Names the server generates: a static record there would shadow or mix with the app's records.
  const generated = new Set<string>();
  for (const app of apps) generated.add(`${app}.${zone}`).add(`_podnet-lease.${app}.${zone}`);
  for (const ns of config.nameservers) if (inZone(ns.name)) generated.add(ns.name);
  const records = config.records.map((record, i) => {
    const relative = record.name.toLowerCase().replace(/\.$/, "");
    const name = relative === "@" ? zone : `${relative}.${zone}`;
    if (relative !== "@" && !isHostName(name)) problems.push(`records.${i}.name: "${record.name}" is not a host name`);
    if (generated.has(name)) problems.push(`records.${i}.name: ${name} is an app's, a proof's or a nameserver's name`);
    if (record.type === "CNAME" && name === zone) problems.push(`records.${i}.name: no CNAME at the zone's apex`);
    return { ...record, name };
  });
  records.forEach((record, i) => {
    if (record.type !== "CNAME") return;
    const other = records.findIndex((rr, j) => j !== i && rr.name === record.name);
    if (other >= 0) problems.push(`records.${i}.name: ${record.name} has a CNAME and other records (records.${other})`);
  });
  if (problems.length > 0) throw new DnsConfigError([...new Set(problems)].join("\n"));
  const mname = config.soa.mname ?? (config.nameservers[0] as { name: string }).name;
  const done: DnsConfig = { ...config, records, soa: { ...config.soa, mname } };
  parsed.add(done);
  return done;
}

/** Reads and validates the JSON configuration file at `path`. */
export function loadDnsConfig(path: string): DnsConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new DnsConfigError(`${path}: ${(error as Error).message}`);
  }
  try {
    return parseDnsConfig(json);
  } catch (error) {
    throw new DnsConfigError(`${path}:\n${(error as Error).message}`);
  }
}
