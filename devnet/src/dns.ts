/**
 * A tiny authoritative DNS server on loopback for tests: answers TXT questions from a table the test edits, and
 * NXDOMAIN for everything else. What a worker's `dnsServers` setting points at when a test proves a custom host
 * (`_podnet-lease.<host>` TXT `lease=<chainId>:<leaseId>`) without touching the machine's resolver.
 */
import { createSocket } from "node:dgram";
import { decode, encode, type Packet } from "dns-packet";

/** A running {@link startDnsServer}. */
export interface DnsServer {
  /** `127.0.0.1:<port>`, the form a worker's `dnsServers` setting takes. */
  address: string;
  /** Sets (replaces) the TXT strings of `name`; an empty list removes the name. */
  setTxt(name: string, values: string[]): void;
  /** Questions answered so far (name and type), oldest first. */
  readonly queries: { name: string; type: string }[];
  close(): Promise<void>;
}

/** Starts a UDP DNS server on 127.0.0.1 (a free port) serving the TXT records set with {@link DnsServer.setTxt}. */
export async function startDnsServer(): Promise<DnsServer> {
  const txt = new Map<string, string[]>();
  const queries: { name: string; type: string }[] = [];
  const socket = createSocket("udp4");
  socket.on("message", (message, peer) => {
    let query: Packet;
    try {
      query = decode(message);
    } catch {
      return;
    }
    const [question] = query.questions ?? [];
    if (!question) return;
    const name = question.name.toLowerCase();
    queries.push({ name, type: question.type });
    const values = question.type === "TXT" ? txt.get(name) : undefined;
    const response: Packet = {
      id: query.id,
      type: "response",
      // Authoritative answer, recursion desired copied from the query; NXDOMAIN (rcode 3) for unknown names.
      flags: 0x0400 | ((query.flags ?? 0) & 0x0100) | (txt.has(name) ? 0 : 3),
      questions: [question],
      answers: (values ?? []).map((value) => ({ type: "TXT", name: question.name, ttl: 1, class: "IN", data: value })),
    };
    socket.send(encode(response), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    setTxt(name, values) {
      if (values.length === 0) txt.delete(name.toLowerCase());
      else txt.set(name.toLowerCase(), values);
    },
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
