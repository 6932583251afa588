import type { Answer, Packet, Question } from "dns-packet";
import * as packet from "dns-packet";
import type { RecordType, Zone } from "./zone.js";

/**
 * One query in, one answer out (or nothing): the nameserver's whole behaviour, without sockets. Authoritative only:
 * AA set, RA clear, REFUSED for names outside the zone. Answers for the same question, transport limit and EDNS-ness
 * are the same bytes for one snapshot, so they are cached encoded and only the id and RD bit are patched in.
 */

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** BADVERS is extended rcode 16: 0 in the header's four bits, 1 in the OPT record's upper eight. */
const BADVERS_UPPER = 1;
const QR = 1 << 15;
const AA = 1 << 10;
const TC = 1 << 9;
const RD = 1 << 8;
/** Answers cached per snapshot; past this the cache starts again (random names must not grow it without end). */
const MAX_CACHED = 20_000;
const TCP_MAX = 65_535;

export interface AnswerOptions {
  /** Largest UDP answer this server sends to an EDNS requester (also what it advertises). */
  maxUdpPayload: number;
}

/** The answers of one snapshot: keep one per {@link Zone}, drop it with the snapshot. */
export class AnswerCache {
  readonly #answers = new Map<string, Buffer[]>();
  /** Which rotation of a multi-address answer goes out next (one counter for every name: a strict round robin). */
  turn = 0;
  constructor(
    readonly zone: Zone,
    readonly options: AnswerOptions,
  ) {}

  get(key: string): Buffer[] | undefined {
    return this.#answers.get(key);
  }
  set(key: string, value: Buffer[]): void {
    if (this.#answers.size >= MAX_CACHED) this.#answers.clear();
    this.#answers.set(key, value);
  }
}

/**
 * The answer to `query` over `transport`, or undefined when nothing should be sent: a packet too short for a header,
 * or a response (answering one could start a loop between two servers).
 */
export function answerQuery(cache: AnswerCache, query: Buffer, transport: "udp" | "tcp"): Buffer | undefined {
  if (query.length < 12) return undefined;
  const id = query.readUInt16BE(0);
  const flags = query.readUInt16BE(2);
  if (flags & QR) return undefined;
  const rd = flags & RD;
  const opcode = (flags >> 11) & 0xf;
  let decoded: Packet;
  try {
    decoded = packet.decode(query);
  } catch {
    return bare(id, opcode, rd, RCODE.FORMERR);
  }
  if (opcode !== 0) return bare(id, opcode, rd, RCODE.NOTIMP);
  const questions = decoded.questions ?? [];
  const opts = (decoded.additionals ?? []).filter((rr) => rr.type === "OPT");
  // RFC 6891: more than one OPT record is a format error.
  if (questions.length !== 1 || opts.length > 1) return bare(id, opcode, rd, RCODE.FORMERR);
  const question = questions[0] as Question;
  const opt = opts[0] as (Answer & { ednsVersion?: number; udpPayloadSize?: number }) | undefined;
  const { maxUdpPayload } = cache.options;
  if (opt && (opt.ednsVersion ?? 0) > 0) {
    return encode({
      id,
      type: "response",
      flags: rd,
      questions: [question],
      additionals: [ednsRecord(maxUdpPayload, BADVERS_UPPER)],
    });
  }
  const limit = transport === "tcp" ? TCP_MAX : opt ? clamp(opt.udpPayloadSize ?? 512, 512, maxUdpPayload) : 512;
  const key = `${question.name}\0${question.type}\0${question.class}\0${opt ? 1 : 0}\0${limit}`;
  let variants = cache.get(key);
  if (!variants) {
    variants = resolveRotations(cache.zone, question, opt !== undefined, limit, maxUdpPayload);
    cache.set(key, variants);
  }
  const answer = variants.length === 1 ? (variants[0] as Buffer) : (variants[cache.turn++ % variants.length] as Buffer);
  const out = Buffer.from(answer);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(out.readUInt16BE(2) | rd, 2);
  return out;
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

const ednsRecord = (udpPayloadSize: number, extendedRcode = 0) =>
  ({
    type: "OPT",
    name: ".",
    udpPayloadSize,
    extendedRcode,
    ednsVersion: 0,
    flags: 0,
    options: [],
  }) as unknown as Answer;

function encode(response: Packet): Buffer {
  return packet.encode({ ...response, flags: (response.flags ?? 0) | QR } as Packet);
}

/** A header-only answer (no question echoed): for packets whose question cannot be trusted or read. */
function bare(id: number, opcode: number, rd: number, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(QR | (opcode << 11) | rd | rcode, 2);
  return out;
}

/**
 * The answers to one question: one, or for an A/AAAA set of n addresses n of them, each starting at the next address
 * (sent in turn, so clients that take the first address spread over the instances, as with BIND's round robin).
 */
function resolveRotations(zone: Zone, question: Question, edns: boolean, limit: number, maxUdpPayload: number) {
  const first = resolve(zone, question, edns, limit, maxUdpPayload, 0);
  const variants = [first.answer];
  for (let rotation = 1; rotation < first.rotations; rotation++) {
    variants.push(resolve(zone, question, edns, limit, maxUdpPayload, rotation).answer);
  }
  return variants;
}

/**
 * Builds the answer to one question with id 0 and RD clear, its address set rotated by `rotation`; truncated (TC, no
 * records) when over `limit`. `rotations`: how many distinct rotations the answer has.
 */
function resolve(
  zone: Zone,
  question: Question,
  edns: boolean,
  limit: number,
  maxUdpPayload: number,
  rotation: number,
): { answer: Buffer; rotations: number } {
  const name = question.name.toLowerCase().replace(/\.$/, "");
  const additionals = edns ? [ednsRecord(maxUdpPayload)] : [];
  const reply = (rcode: number, sections: Partial<Packet> = {}, authoritative = true) => ({
    id: 0,
    type: "response" as const,
    flags: (authoritative ? AA : 0) | rcode,
    questions: [question],
    answers: [],
    authorities: [],
    ...sections,
    additionals: [...(sections.additionals ?? []), ...additionals],
  });
  let response: Packet;
  let rotations = 1;
  if ((question.class !== "IN" && question.class !== "ANY") || !zone.contains(name)) {
    // Not ours (or CHAOS `version.bind`): no AA, nothing about the zone.
    response = reply(RCODE.REFUSED, {}, false);
  } else if (question.type === "AXFR" || question.type === "IXFR") {
    // Zone transfers are not offered: every node builds the zone itself from the same configuration.
    response = reply(RCODE.REFUSED);
  } else {
    ({ response, rotations } = lookupAnswer(zone, question, name, reply, rotation));
  }
  const full = encode(response);
  if (full.length <= limit) return { answer: full, rotations };
  // Over the requester's limit: say so and send nothing else, so a spoofed small query never gets a big answer.
  if (limit === TCP_MAX) return { answer: encode(reply(RCODE.SERVFAIL)), rotations: 1 };
  const truncated = encode({ ...reply(response.flags ? response.flags & 0xf : 0), flags: (response.flags ?? 0) | TC });
  return { answer: truncated, rotations: 1 };
}

type Reply = (rcode: number, sections?: Partial<Packet>, authoritative?: boolean) => Packet;

function lookupAnswer(
  zone: Zone,
  question: Question,
  name: string,
  reply: Reply,
  rotation: number,
): { response: Packet; rotations: number } {
  const once = (response: Packet) => ({ response, rotations: 1 });
  const owner = question.name.replace(/\.$/, "");
  const negative = () => ({
    authorities: [rr(zone.origin, "SOA", zone.negativeTtl, zone.soa)],
  });
  const node = zone.lookup(name);
  if (!node) return once(reply(RCODE.NXDOMAIN, negative()));
  if ((question.type as string) === "ANY") {
    // RFC 8482: one small synthesized record instead of everything at the name (ANY feeds amplification attacks).
    return once(
      reply(RCODE.NOERROR, {
        answers: [{ type: "HINFO", name: owner, ttl: zone.soa.minimum, data: { cpu: "RFC8482", os: "" } } as Answer],
      }),
    );
  }
  const answers: Answer[] = [];
  let atOwner = owner;
  let current = node;
  // Follow CNAMEs inside the zone (bounded: a loop in the configuration must not loop here).
  for (let hops = 0; hops < 8; hops++) {
    const cname = current.get("CNAME");
    if (!cname || question.type === "CNAME") break;
    answers.push(...records(atOwner, cname.type, cname.ttl, cname.data));
    const target = String(cname.data[0]);
    const next = zone.contains(target) ? zone.lookup(target) : undefined;
    if (!next) {
      // Out of the zone: the resolver follows it. A dangling in-zone target: NXDOMAIN with the CNAME (RFC 6604).
      return once(
        zone.contains(target) ? reply(RCODE.NXDOMAIN, { answers, ...negative() }) : reply(RCODE.NOERROR, { answers }),
      );
    }
    atOwner = target;
    current = next;
  }
  const rrset = current.get(question.type as RecordType);
  if (!rrset) return once(reply(RCODE.NOERROR, { answers, ...(answers.length === 0 ? negative() : {}) }));
  const rotates = rrset.type === "A" || rrset.type === "AAAA";
  const shift = rotates ? rotation % rrset.data.length : 0;
  const data = [...rrset.data.slice(shift), ...rrset.data.slice(0, shift)];
  answers.push(...records(atOwner, rrset.type, rrset.ttl, data));
  const additionals: Answer[] = [];
  if (rrset.type === "NS") {
    // Glue: the addresses of nameservers inside the zone, so a resolver need not ask again.
    for (const target of rrset.data as string[]) {
      const glue = zone.contains(target) ? zone.lookup(target) : undefined;
      for (const type of ["A", "AAAA"] as const) {
        const set = glue?.get(type);
        if (set) additionals.push(...records(target, type, set.ttl, set.data));
      }
    }
  }
  return { response: reply(RCODE.NOERROR, { answers, additionals }), rotations: rotates ? rrset.data.length : 1 };
}

const rr = (name: string, type: string, ttl: number, data: unknown) =>
  ({ type, name, ttl, class: "IN", data }) as Answer;
const records = (name: string, type: string, ttl: number, data: unknown[]) => data.map((d) => rr(name, type, ttl, d));
