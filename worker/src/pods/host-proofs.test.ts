import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { proofValue } from "@podnet/sdk/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../log.js";
import { WorkerState } from "../store/worker-state.js";
import { HostProofs, ON_DEMAND_RETRY_MS } from "./host-proofs.js";

const CHAIN_ID = 31337;
const IDENTITY = {
  chainId: CHAIN_ID,
  provider: "0x00000000000000000000000000000000000000a1",
  market: "0x00000000000000000000000000000000000000b2",
} as const;

/**
 * A DNS server on loopback that counts the queries it gets and answers each TXT question with `txt` (NXDOMAIN when
 * it is empty): enough of RFC 1035 for the resolver of node:dns.
 */
async function txtServer(txt: () => string[]): Promise<{ socket: Socket; address: string; queries: () => number }> {
  const socket = createSocket("udp4");
  let queries = 0;
  socket.on("message", (query, peer) => {
    queries++;
    // The question: from byte 12 to the end of its name (a zero length), then type and class.
    let end = 12;
    while (query[end] !== 0) end += (query[end] as number) + 1;
    const question = query.subarray(12, end + 5);
    const records = txt();
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the id
    header.writeUInt16BE(records.length > 0 ? 0x8180 : 0x8183, 2); // a response, recursion available, NOERROR/NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length, 6);
    const answers = records.map((value) => {
      const data = Buffer.concat([Buffer.from([value.length]), Buffer.from(value)]);
      const fixed = Buffer.alloc(12);
      fixed.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      fixed.writeUInt16BE(16, 2); // TXT
      fixed.writeUInt16BE(1, 4); // IN
      fixed.writeUInt32BE(60, 6); // TTL
      fixed.writeUInt16BE(data.length, 10);
      return Buffer.concat([fixed, data]);
    });
    socket.send(Buffer.concat([header, question, ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { socket, address: `127.0.0.1:${socket.address().port}`, queries: () => queries };
}

describe("HostProofs.proveNow", () => {
  let dir: string;
  let records: string[];
  let server: Awaited<ReturnType<typeof txtServer>>;
  let proofs: HostProofs;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "host-proofs-"));
    records = [];
    server = await txtServer(() => records);
    proofs = new HostProofs({
      state: WorkerState.open(dir, IDENTITY, 0),
      chainId: CHAIN_ID,
      servers: [server.address],
      log: createLogger("error", () => {}),
    });
  });
  afterEach(() => {
    server.socket.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("proves a host as soon as its record is there, without waiting for the pass's retry window", async () => {
    const now = Date.now();
    expect(await proofs.proveNow("app.example.com", "7", now)).toBe(false);
    records = [proofValue(CHAIN_ID, "7")];
    expect(await proofs.proveNow("app.example.com", "7", now + ON_DEMAND_RETRY_MS)).toBe(true);
    expect(proofs.holds("app.example.com", "7")).toBe(true);
    // Held: no further lookup.
    expect(await proofs.proveNow("app.example.com", "7", now + 2 * ON_DEMAND_RETRY_MS)).toBe(true);
    expect(server.queries()).toBe(2);
  });

  it("looks a host up at most once per ON_DEMAND_RETRY_MS however many requests ask", async () => {
    const now = Date.now();
    const answers = await Promise.all(Array.from({ length: 100 }, () => proofs.proveNow("app.example.com", "7", now)));
    expect(answers.every((proven) => proven === false)).toBe(true);
    expect(server.queries()).toBe(1);
    expect(await proofs.proveNow("app.example.com", "7", now + ON_DEMAND_RETRY_MS - 1)).toBe(false);
    expect(server.queries()).toBe(1);
  });

  it("does not take a host for a lease whose record names another", async () => {
    records = [proofValue(CHAIN_ID, "8")];
    expect(await proofs.proveNow("app.example.com", "7")).toBe(false);
    expect(proofs.holds("app.example.com", "7")).toBe(false);
  });
});
