/**
 * The command-line parser of `podnet`: GNU-style long options (`--name value`, `--name=value`), one-letter aliases
 * (`-f`), negatable booleans (`--no-wait`), repeatable options (`--attr a=1 --attr b=2`) and `--` to end options.
 * Unknown options are errors, never ignored: a typo must not silently change what a command pays for.
 */

import { PodnetError, type PodnetErrorParameters } from "../protocol/errors.js";

export type UsageErrorType = UsageError & { name: "UsageError" };

/** Raised for anything the user typed wrong; `podnet` exits with code 2. */
export class UsageError extends PodnetError {
  override name = "UsageError";
  constructor(message: string, options?: Pick<PodnetErrorParameters, "cause">) {
    super("USAGE", message, { ...options, docsPath: "docs/cli.md#output-and-exit-codes" });
  }
}

export type OptionType = "string" | "boolean" | "list";

export interface OptionDef {
  type: OptionType;
  /** One-letter alias, without the dash (`f` for `-f`). */
  short?: string;
  /** `--no-<name>` sets a boolean to false. */
  negatable?: boolean;
  /** Shown in help: `--duration <d>`. */
  value?: string;
  description: string;
}

/** Option definitions by long name (kebab case, without the dashes). */
export type OptionSpec = Record<string, OptionDef>;

export type OptionValue = string | boolean | string[];

export interface ParsedArgs {
  /** By long name; only options that were given. */
  options: Record<string, OptionValue>;
  positionals: string[];
}

/** Parses `argv` (without the command words) against `spec`. */
export function parseArgs(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const options: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, def] of Object.entries(spec)) if (def.short) byShort.set(def.short, name);

  const set = (name: string, def: OptionDef, value: string | boolean, shown: string) => {
    if (def.type === "list") {
      const list = (options[name] as string[] | undefined) ?? [];
      list.push(value as string);
      options[name] = list;
      return;
    }
    if (name in options && def.type === "string") throw new UsageError(`${shown}: given more than once`);
    options[name] = value;
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-" || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    let shown: string;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
      shown = `--${name}`;
    } else {
      const short = arg.slice(1);
      const long = byShort.get(short);
      if (!long) throw new UsageError(`${arg}: unknown option`);
      name = long;
      shown = arg;
    }
    const def = spec[name];
    if (!def && name.startsWith("no-")) {
      const positive = spec[name.slice(3)];
      if (positive?.type === "boolean" && positive.negatable) {
        if (inline !== undefined) throw new UsageError(`${shown}: takes no value`);
        set(name.slice(3), positive, false, shown);
        continue;
      }
    }
    if (!def) throw new UsageError(`${shown}: unknown option${suggest(name, spec)}`);
    if (def.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`${shown}: takes no value`);
      set(name, def, true, shown);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new UsageError(`${shown}: needs a value${def.value ? ` (${def.value})` : ""}`);
      }
      value = next;
      i++;
    }
    set(name, def, value, shown);
  }
  return { options, positionals };
}

/** " (did you mean --duration?)" for a near miss, else "". */
function suggest(name: string, spec: OptionSpec): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of Object.keys(spec)) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean --${best}?)` : "";
}

/** Levenshtein distance, small strings only. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * Splits the command words off the front of `argv`: global options may come before them (`podnet --json status 7`).
 * Returns the words (up to `maxWords`) and every other token in order.
 */
export function splitCommand(
  argv: readonly string[],
  globalSpec: OptionSpec,
  isGroup: (word: string) => boolean,
): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") break;
    if (arg.startsWith("-") && arg !== "-") {
      rest.push(arg);
      const name = arg.startsWith("--") ? arg.slice(2) : undefined;
      const def = name !== undefined && !name.includes("=") ? globalSpec[name] : undefined;
      if (def && def.type !== "boolean" && i + 1 < argv.length) rest.push(argv[++i] as string);
      continue;
    }
    words.push(arg);
    if (words.length === 2 || !isGroup(arg)) {
      i++;
      break;
    }
  }
  rest.push(...argv.slice(i));
  return { words, rest };
}

/** Help lines for options: `  --duration <d>   what it does`, aligned. */
export function describeOptions(spec: OptionSpec): string[] {
  const rows = Object.entries(spec).map(([name, def]) => {
    const flag = [def.short ? `-${def.short}, ` : "", `--${name}`, def.value ? ` <${def.value}>` : ""].join("");
    return [def.negatable ? `${flag} | --no-${name}` : flag, def.description] as const;
  });
  const width = Math.max(0, ...rows.map(([flag]) => flag.length));
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}
