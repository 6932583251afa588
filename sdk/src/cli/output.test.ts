import { describe, expect, it } from "vitest";
import { fields, Output, table, toJson } from "./output.js";

describe("cli: output", () => {
  it("aligns table columns and upper-cases the header, without trailing spaces", () => {
    expect(
      table(
        ["#", "address", "price/s"],
        [
          ["1", "0xabc", "10"],
          ["2", "0xabcdef", "9"],
        ],
      ),
    ).toBe(["#  ADDRESS   PRICE/S", "1  0xabc     10", "2  0xabcdef  9"].join("\n"));
  });

  it("aligns label/value blocks and skips undefined values", () => {
    expect(
      fields([
        ["lease", "7"],
        ["order", undefined],
        ["provider", "0x1"],
      ]),
    ).toBe("lease     7\nprovider  0x1");
  });

  it("writes bigints as exact decimal strings in JSON", () => {
    expect(toJson({ a: 2n ** 70n, b: [1n] }, 0)).toBe('{"a":"1180591620717411303424","b":["1"]}');
  });

  it("sends results to stdout (JSON or text) and progress to stderr", () => {
    const out: string[] = [];
    const err: string[] = [];
    const sink = (into: string[]) => ({ write: (s: string) => into.push(s) });
    new Output(true, sink(out), sink(err)).result({ leaseId: 7n }, () => "human");
    new Output(false, sink(out), sink(err)).result({}, () => "human");
    new Output(false, sink(out), sink(err)).progress("quote ✓");
    expect(out).toEqual(['{\n  "leaseId": "7"\n}\n', "human\n"]);
    expect(err).toEqual(["quote ✓\n"]);
  });
});
