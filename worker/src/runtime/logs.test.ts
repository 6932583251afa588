import { describe, expect, it } from "vitest";
import { demuxLogs } from "./logs.js";

function frame(kind: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function collect(chunks: Buffer[]) {
  const records = [];
  for await (const record of demuxLogs(
    (async function* () {
      yield* chunks;
    })(),
  ))
    records.push(record);
  return records;
}

describe("demuxLogs", () => {
  it("splits frames whatever the chunk boundaries, UTF-8 split across chunks included", async () => {
    const bytes = Buffer.concat([frame(1, "héllo\n"), frame(2, "oops\n"), frame(1, "€uro\n")]);
    const expected = [
      { stream: "stdout", text: "héllo\n" },
      { stream: "stderr", text: "oops\n" },
      { stream: "stdout", text: "€uro\n" },
    ];
    expect(await collect([bytes])).toEqual(expected);
    // One byte at a time: headers and multi-byte characters are cut everywhere.
    expect(await collect([...bytes].map((b) => Buffer.from([b])))).toEqual(expected);
  });

  it("rejects a stream that ends inside a frame", async () => {
    await expect(collect([frame(1, "cut short\n").subarray(0, 12)])).rejects.toThrow(/ended inside a record/);
  });
});
