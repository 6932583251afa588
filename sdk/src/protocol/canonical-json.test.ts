import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json.js";

describe("canonicalJson", () => {
  it("gives the same text whatever the key order", () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(canonicalJson({ a: 2, b: 1 })).toBe('{"a":2,"b":1}');
  });

  it("sorts nested objects, keeps array order and writes no whitespace", () => {
    const value = { z: [3, { y: true, x: null }, "s"], a: { d: { f: 1, e: 2 }, c: [] }, m: {} };
    expect(canonicalJson(value)).toBe('{"a":{"c":[],"d":{"e":2,"f":1}},"m":{},"z":[3,{"x":null,"y":true},"s"]}');
    expect(canonicalJson([2, 1, [false]])).toBe("[2,1,[false]]");
  });

  it("leaves out undefined members, so an absent and an undefined field are the same", () => {
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined } })).toBe('{"a":1,"c":{}}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it("sorts keys by UTF-16 code units, not by locale or code point", () => {
    // "Z" 0x5a < "z" 0x7a < "é" 0xe9; a locale sort would put "é" next to "e".
    expect(canonicalJson({ é: 1, z: 2, Z: 3, e: 4 })).toBe('{"Z":3,"e":4,"z":2,"é":1}');
    // U+1F600 is the surrogate pair d83d de00: before U+FF01 in UTF-16 order, after it in code point order.
    expect(canonicalJson({ "\uff01": 1, "\u{1f600}": 2 })).toBe('{"\u{1f600}":2,"\uff01":1}');
  });

  it("escapes strings and keys exactly as JSON.stringify", () => {
    const strings = [
      'quote " backslash \\ slash /',
      "line\nfeed\ttab\r\b\f",
      "\u0001\u001f\u007f",
      "é\u2028\u{1f600}",
      "\ud800",
    ];
    for (const s of strings) {
      expect(canonicalJson(s)).toBe(JSON.stringify(s));
      expect(canonicalJson({ [s]: s })).toBe(`{${JSON.stringify(s)}:${JSON.stringify(s)}}`);
    }
  });

  it("writes safe integers, booleans and null", () => {
    expect(
      canonicalJson({ n: -0, max: Number.MAX_SAFE_INTEGER, min: -Number.MAX_SAFE_INTEGER, t: true, f: false }),
    ).toBe(`{"f":false,"max":${Number.MAX_SAFE_INTEGER},"min":-${Number.MAX_SAFE_INTEGER},"n":0,"t":true}`);
    expect(canonicalJson(null)).toBe("null");
  });

  it("refuses values without a portable text form, naming their path", () => {
    expect(() => canonicalJson({ a: [1, 1.5] })).toThrow(TypeError);
    expect(() => canonicalJson({ a: [1, 1.5] })).toThrow("$.a[1]");
    expect(() => canonicalJson({ b: { c: Number.NaN } })).toThrow("$.b.c");
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow("$[0]");
    expect(() => canonicalJson({ x: Number.NEGATIVE_INFINITY })).toThrow("$.x");
    expect(() => canonicalJson({ big: Number.MAX_SAFE_INTEGER + 1 })).toThrow("$.big");
    expect(() => canonicalJson({ a: { n: 1n } })).toThrow("$.a.n: bigint cannot be canonicalised");
    expect(() => canonicalJson({ f: [() => 1] })).toThrow("$.f[0]: function cannot be canonicalised");
    expect(() => canonicalJson(Symbol("s"))).toThrow("$: symbol cannot be canonicalised");
  });
});
