import { describe, expect, it } from "vitest";
import { describeOptions, type OptionSpec, parseArgs, splitCommand, UsageError } from "./args.js";

const spec: OptionSpec = {
  json: { type: "boolean", description: "" },
  duration: { type: "string", value: "d", description: "" },
  attr: { type: "list", description: "" },
  follow: { type: "boolean", short: "f", description: "" },
  wait: { type: "boolean", negatable: true, description: "" },
  "rpc-url": { type: "string", description: "" },
};

const usage = (argv: string[]) => {
  try {
    parseArgs(argv, spec);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`parsed: ${argv.join(" ")}`);
};

describe("cli: parseArgs", () => {
  it("reads long options with separate and inline values, booleans, aliases and positionals in any order", () => {
    expect(parseArgs(["pod.yaml", "--duration", "1h", "--json", "-f", "--rpc-url=http://x:1"], spec)).toEqual({
      options: { duration: "1h", json: true, follow: true, "rpc-url": "http://x:1" },
      positionals: ["pod.yaml"],
    });
  });

  it("collects repeated list options, negates booleans, and ends options at --", () => {
    expect(parseArgs(["--attr", "a=1", "--attr=b=2", "--no-wait", "--", "--json", "-"], spec)).toEqual({
      options: { attr: ["a=1", "b=2"], wait: false },
      positionals: ["--json", "-"],
    });
    expect(parseArgs(["-"], spec).positionals).toEqual(["-"]);
  });

  it("takes a value that starts with one dash (a negative number, stdin)", () => {
    expect(parseArgs(["--duration", "-5"], spec).options.duration).toBe("-5");
  });

  it("refuses unknown options (with a suggestion), missing values, values on booleans, repeated strings", () => {
    expect(usage(["--durration", "1h"])).toBe("--durration: unknown option (did you mean --duration?)");
    expect(usage(["--bogus"])).toBe("--bogus: unknown option");
    expect(usage(["-x"])).toBe("-x: unknown option");
    expect(usage(["--duration"])).toBe("--duration: needs a value (d)");
    expect(usage(["--duration", "--json"])).toBe("--duration: needs a value (d)");
    expect(usage(["--json=yes"])).toBe("--json: takes no value");
    expect(usage(["--no-json"])).toBe("--no-json: unknown option");
    expect(usage(["--duration", "1h", "--duration", "2h"])).toBe("--duration: given more than once");
  });
});

describe("cli: splitCommand", () => {
  const groups = new Set(["image", "key"]);
  const split = (argv: string[]) => splitCommand(argv, spec, (w) => groups.has(w));

  it("finds the command words after global options, keeping option values out of them", () => {
    expect(split(["--rpc-url", "http://x", "status", "7", "--json"])).toEqual({
      words: ["status"],
      rest: ["--rpc-url", "http://x", "7", "--json"],
    });
    expect(split(["image", "add", "web.tar", "--set", "pod.yaml"])).toEqual({
      words: ["image", "add"],
      rest: ["web.tar", "--set", "pod.yaml"],
    });
    expect(split(["key", "--json", "address"])).toEqual({ words: ["key", "address"], rest: ["--json"] });
    expect(split(["--json"])).toEqual({ words: [], rest: ["--json"] });
  });
});

describe("cli: describeOptions", () => {
  it("aligns flags and descriptions", () => {
    const lines = describeOptions({
      follow: { type: "boolean", short: "f", description: "follow" },
      tail: { type: "string", value: "n", description: "lines" },
      wait: { type: "boolean", negatable: true, description: "wait" },
    });
    expect(lines).toEqual([
      "  -f, --follow        follow",
      "  --tail <n>          lines",
      "  --wait | --no-wait  wait",
    ]);
  });
});

describe("cli: parseArgs on commander, edges", () => {
  it("keeps a negative number as a positional, and takes values and -- inside a short group", () => {
    expect(parseArgs(["-5", "--json"], spec)).toEqual({ options: { json: true }, positionals: ["-5"] });
    expect(parseArgs(["-f", "--", "-f"], spec)).toEqual({ options: { follow: true }, positionals: ["-f"] });
  });

  it("names the offending flag for a value missing at the end, after a short alias, and for --no-x=", () => {
    expect(usage(["--attr"])).toBe("--attr: needs a value");
    expect(usage(["--no-wait=yes"])).toBe("--no-wait: takes no value");
    expect(usage(["-fx"])).toBe("-x: unknown option");
    expect(usage(["--rpc-urll=http://x"])).toBe("--rpc-urll: unknown option (did you mean --rpc-url?)");
  });

  it("refuses a value that is a long flag, in either form (a forgotten value)", () => {
    expect(usage(["--duration=--json"])).toBe("--duration: needs a value (d)");
    expect(usage(["--attr", "a=1", "--attr", "--json"])).toBe("--attr: needs a value");
  });
});
