import { describe, expect, it } from "vitest";
import { createLogger, REDACTED } from "./log.js";

/** A logger writing into an array; each record parsed back from its JSON line. */
function capture(level: "debug" | "info" | "warn" | "error" = "debug") {
  const lines: string[] = [];
  const log = createLogger(level, (line) => {
    lines.push(line);
  });
  return { log, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const PROVIDER_KEY = `0x${"ab".repeat(32)}`;
const WRAPPED = `0x${"cd".repeat(80)}`;
const SIGNATURE = `0x${"ef".repeat(65)}`;

describe("createLogger", () => {
  it("never writes key material: keys, secrets, signatures, wrapped keys, Authorization headers, at any depth", () => {
    const { log, lines, records } = capture();
    log.info("request", {
      providerKey: PROVIDER_KEY,
      config: { providerKey: PROVIDER_KEY, rpcUrl: "http://127.0.0.1:8545" },
      upload: { keys: { bafkcid: WRAPPED }, manifest: { version: 1 } },
      wrappedKey: WRAPPED,
      secret: "hunter2-secret",
      volume: { files: { secrets: { "db.txt": "hunter2-secret" } } },
      req: {
        headers: {
          authorization: "Bearer sekrit-token",
          "x-podnet-signature": SIGNATURE,
          "x-podnet-signer": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
          cookie: "session=sekrit-cookie",
        },
      },
      signature: SIGNATURE,
      privateKey: PROVIDER_KEY,
      lease: "12",
    });
    const text = lines.join("");
    for (const secret of [
      PROVIDER_KEY.slice(2),
      WRAPPED.slice(2),
      SIGNATURE.slice(2),
      "hunter2",
      "sekrit-token",
      "sekrit-cookie",
    ]) {
      expect(text).not.toContain(secret);
    }
    const [record] = records();
    expect(record).toMatchObject({
      level: "info",
      msg: "request",
      providerKey: REDACTED,
      config: { providerKey: REDACTED, rpcUrl: "http://127.0.0.1:8545" },
      upload: { keys: REDACTED, manifest: { version: 1 } },
      wrappedKey: REDACTED,
      secret: REDACTED,
      volume: { files: { secrets: REDACTED } },
      req: {
        headers: {
          authorization: REDACTED,
          "x-podnet-signature": REDACTED,
          // Not secret: who signed stays readable.
          "x-podnet-signer": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
          cookie: REDACTED,
        },
      },
      signature: REDACTED,
      privateKey: REDACTED,
      lease: "12",
    });
  });

  it("redacts in a child logger's bindings and records too", () => {
    const { log, lines } = capture();
    log.child({ lease: "3", secret: "child-binding-secret" }).warn("child", { key: "child-field-key" });
    const text = lines.join("");
    expect(text).not.toContain("child-binding-secret");
    expect(text).not.toContain("child-field-key");
  });

  it("writes one JSON line per record: level label, ISO time, the message before the fields, bigints as strings", () => {
    const { log, lines, records } = capture();
    log.info("bid placed", { orderId: "3", price: 123_456_789_012_345_678_901_234_567_890n, nested: { wei: 1n } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\n$/);
    expect(lines[0]).toContain('"msg":"bid placed","orderId":"3"');
    const [record] = records();
    expect(record?.level).toBe("info");
    expect(new Date(record?.time as string).toISOString()).toBe(record?.time);
    expect(record?.price).toBe("123456789012345678901234567890");
    expect(record?.nested).toEqual({ wei: "1" });
  });

  it("drops records below its level", () => {
    const { log, records } = capture("warn");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(records().map((r) => r.level)).toEqual(["warn", "error"]);
  });

  it("tags every record of a child logger with its bindings (a lease's logger)", () => {
    const { log, records } = capture();
    const lease = log.child({ lease: "42" });
    lease.info("pod running", { containers: 2 });
    lease.child({ container: "web" }).error("exited", { code: 1 });
    log.info("worker record");
    expect(records()).toMatchObject([
      { lease: "42", msg: "pod running", containers: 2 },
      { lease: "42", container: "web", msg: "exited", code: 1, level: "error" },
      { msg: "worker record" },
    ]);
    expect(records()[2]).not.toHaveProperty("lease");
  });
});
