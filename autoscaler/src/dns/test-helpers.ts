/**
 * What the podnet-dns tests share: a real HTTP server answering `GET /status` with an AppStatus the test edits, and a
 * DNS client over real UDP and TCP sockets (dns-packet for the wire).
 */
import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import * as packet from "dns-packet";
import type { AppStatus, InstanceStatus } from "../status-wire.js";

export interface StatusServer {
  url: string;
  /** What the next GET answers: a status (as JSON), or a raw handler for junk, huge or slow answers. */
  status: AppStatus | ((res: import("node:http").ServerResponse) => void);
  requests: number;
  close(): Promise<void>;
}

export async function startStatusServer(status: AppStatus): Promise<StatusServer> {
  const state: StatusServer = { url: "", status, requests: 0, close: async () => undefined };
  const server: Server = createServer((_req, res) => {
    state.requests++;
    if (typeof state.status === "function") return state.status(res);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(state.status));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  state.url = `http://127.0.0.1:${port}/status`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

export const instance = (
  leaseId: string,
  health: InstanceStatus["health"],
  addresses: string[],
  port = 8080,
): InstanceStatus => ({
  slot: Number(leaseId) % 1000,
  leaseId,
  provider: "0x00000000000000000000000000000000000000bb",
  hostUrl: null,
  tcp: null,
  ingress: { addresses, port },
  health,
  lastProbe: null,
});

export const appStatus = (instances: InstanceStatus[], chainId = 31337): AppStatus => ({
  vault: "0x00000000000000000000000000000000000000aa",
  chainId,
  desired: instances.length,
  instances,
  problems: [],
  lastPass: null,
});

/** Sends raw bytes over UDP and resolves with the answer's bytes, or undefined when none came within `waitMs`. */
export function udpRaw(port: number, message: Buffer, waitMs = 1000): Promise<Buffer | undefined> {
  const socket = createSocket("udp4");
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), waitMs);
    const done = (value: Buffer | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(value);
    };
    socket.on("message", (answer) => done(answer));
    socket.send(message, port, "127.0.0.1");
  });
}

export interface QueryOptions {
  /** EDNS(0) buffer size; undefined: no OPT record. */
  edns?: number;
  ednsVersion?: number;
  type?: string;
  flags?: number;
}

export function query(
  name: string,
  { edns, ednsVersion = 0, type = "A", flags = packet.RECURSION_DESIRED }: QueryOptions = {},
) {
  return packet.encode({
    id: randomInt(65536),
    type: "query",
    flags,
    questions: [{ name, type: type as "A", class: "IN" }],
    additionals:
      edns === undefined
        ? []
        : [
            {
              type: "OPT",
              name: ".",
              udpPayloadSize: edns,
              extendedRcode: 0,
              ednsVersion,
              flags: 0,
              options: [],
            } as never,
          ],
  });
}

/** A decoded answer, loosely typed for assertions. */
export interface Reply {
  rcode: string;
  flag_aa: boolean;
  flag_tc: boolean;
  answers?: { type: string; name: string; ttl: number; data: unknown }[];
  authorities?: { type: string; name: string; data: unknown }[];
  additionals?: { type: string; name: string; data: unknown }[];
}

export const decodeReply = (raw: Buffer) => packet.decode(raw) as unknown as Reply;

/** One UDP question; throws when no answer comes. */
export async function udpQuery(port: number, name: string, options: QueryOptions = {}) {
  const raw = await udpRaw(port, query(name, options));
  if (!raw) throw new Error(`no UDP answer for ${name}`);
  return { raw, answer: decodeReply(raw) };
}

/** Sends `frames` (already length-prefixed or not, as given) over one TCP connection; collects the answers. */
export function tcpExchange(port: number, data: Buffer, expectAnswers: number, waitMs = 2000): Promise<Buffer[]> {
  const socket = connect(port, "127.0.0.1");
  const answers: Buffer[] = [];
  let pending = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP: ${answers.length} of ${expectAnswers} answers within ${waitMs} ms`));
    }, waitMs);
    socket.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        answers.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
      if (answers.length >= expectAnswers) {
        clearTimeout(timer);
        socket.end();
        resolve(answers);
      }
    });
    socket.on("error", reject);
    socket.write(data);
  });
}

export const frame = (message: Buffer) => {
  const out = Buffer.alloc(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
};

/** Milliseconds until the server closes a TCP connection on which `send` was written (rejects after `waitMs`). */
export function tcpClosedAfter(
  port: number,
  send: (socket: import("node:net").Socket) => void,
  waitMs: number,
): Promise<number> {
  const socket = connect(port, "127.0.0.1");
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${waitMs} ms`));
    }, waitMs);
    socket.on("connect", () => send(socket));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(performance.now() - started);
    });
    socket.resume();
  });
}
