import { describe, expect, it } from "vitest";
import { ByteProgress, formatBytes, formatRate } from "./progress.js";

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (chunk: string) => chunks.push(chunk) };
}

describe("byte progress", () => {
  it("formats sizes in binary units and rates per second", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MiB");
    expect(formatBytes(3 * 1024 ** 4)).toBe("3.0 TiB");
    expect(formatRate(10 * 1024 * 1024, 2000)).toBe("5.0 MiB/s");
    expect(formatRate(10, 0)).toBe("-");
  });

  it("off a terminal: no redraws, one summary line when the step ends, once", () => {
    let now = 0;
    const out = stream(false);
    const meter = new ByteProgress(out, "uploading x", 4 * 1024 * 1024, () => now);
    for (let i = 1; i <= 4; i++) {
      now += 500;
      meter.update(i * 1024 * 1024);
    }
    expect(out.chunks).toEqual([]);
    meter.done();
    meter.done();
    expect(out.chunks).toEqual(["uploading x: 4.0 MiB in 2.0 s (2.0 MiB/s)\n"]);
  });

  it("on a terminal: a bar with the percentage, bytes and rate", () => {
    let now = 0;
    const out = stream(true);
    const meter = new ByteProgress(out, "encrypting a.tar", 2 * 1024 * 1024, () => now);
    now = 1000;
    meter.update(1024 * 1024);
    meter.done();
    const drawn = out.chunks.join("");
    expect(drawn).toContain("encrypting a.tar [");
    expect(drawn).toMatch(/50% 1\.0 MiB\/2\.0 MiB 1\.0 MiB\/s/);
  });
});
