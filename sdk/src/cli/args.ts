/**
 * The command-line parser of `podnet`, on commander (https://github.com/tj/commander.js): GNU-style long options
 * (`--name value`, `--name=value`), one-letter aliases (`-f`), negatable booleans (`--no-wait`), repeatable options
 * (`--attr a=1 --attr b=2`) and `--` to end options. Commander tokenizes; this module adds the rules commander does
 * not have and turns its failures into one-line {@link UsageError}s naming the flag. Unknown options are errors,
 * never ignored: a typo must not silently change what a command pays for.
 *
 * Why commander: the most used Node CLI framework, maintained, no dependencies, and its tokenizer (`parseOptions`) can
 * run on its own, so each command's options are declared only when its module is loaded. Pinned at 14.0.3: 15 needs
 * Node 22.12 and the repository supports Node 20. yargs has completion built in but no fish, and its strict-mode
 * messages and coercions would need as much rewording.
 */

import { Command, type CommanderError, Help, Option } from "commander";
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

/** The commander options of one spec entry: the option itself, and `--no-<name>` when it is negatable. */
function toCommanderOptions(name: string, def: OptionDef): Option[] {
  const short = def.short ? `-${def.short}, ` : "";
  if (def.type === "boolean") {
    const option = new Option(`${short}--${name}`, def.description);
    return def.negatable ? [option, new Option(`--no-${name}`)] : [option];
  }
  const option = new Option(`${short}--${name} <${def.value ?? "value"}>`, def.description);
  return [
    option.argParser((value: string, previous: string | string[] | undefined) => {
      // Commander would take the next flag as the value (`--duration --json`); a forgotten value is the likelier story.
      if (value.startsWith("--") && value.length > 2) throw needsValue(`--${name}`, def);
      if (def.type === "list") return [...((previous as string[] | undefined) ?? []), value];
      if (previous !== undefined) throw new UsageError(`--${name}: given more than once`);
      return value;
    }),
  ];
}

function needsValue(shown: string, def: OptionDef | undefined): UsageError {
  return new UsageError(`${shown}: needs a value${def?.value ? ` (${def.value})` : ""}`);
}

/** Parses `argv` (without the command words) against `spec`. */
export function parseArgs(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const command = new Command()
    .helpOption(false)
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .exitOverride((error) => {
      throw usageErrorOf(error, argv, spec);
    });
  const attributes: [string, string][] = [];
  for (const [name, def] of Object.entries(spec)) {
    for (const option of toCommanderOptions(name, def)) command.addOption(option);
    attributes.push([name, new Option(`--${name}`).attributeName()]);
  }
  // parseOptions, not parse: only the tokenizer; positionals are the command module's to check.
  const { operands, unknown } = command.parseOptions([...argv]);
  if (unknown[0] !== undefined) throw unknownOption(unknown[0], spec);
  const options: Record<string, OptionValue> = {};
  for (const [name, attribute] of attributes) {
    const value = command.getOptionValue(attribute) as OptionValue | undefined;
    if (value !== undefined) options[name] = value;
  }
  return { options, positionals: operands };
}

/** The error for the first token commander did not recognise as an option (`--bogus`, `-x`, `--json=yes`). */
function unknownOption(token: string, spec: OptionSpec): UsageError {
  if (!token.startsWith("--")) return new UsageError(`${token}: unknown option`);
  const eq = token.indexOf("=");
  const name = eq === -1 ? token.slice(2) : token.slice(2, eq);
  const def =
    spec[name] ?? (name.startsWith("no-") && spec[name.slice(3)]?.negatable ? spec[name.slice(3)] : undefined);
  if (def?.type === "boolean" && eq !== -1) return new UsageError(`--${name}: takes no value`);
  return new UsageError(`--${name}: unknown option${suggest(name, Object.keys(spec))}`);
}

/** Commander's own failures, reworded; the only one reachable from parseOptions is a value missing at the end. */
function usageErrorOf(error: CommanderError, argv: readonly string[], spec: OptionSpec): UsageError {
  const last = argv.at(-1) ?? "";
  if (error.code === "commander.optionMissingArgument") {
    const long = last.startsWith("--") ? last.slice(2) : Object.keys(spec).find((n) => spec[n]?.short === last.at(-1));
    return needsValue(long !== undefined ? `--${long}` : last, long !== undefined ? spec[long] : undefined);
  }
  return new UsageError(error.message.replace(/^error: /, ""), { cause: error });
}

/** " (did you mean --duration?)" for a near miss among `candidates`, else "". */
function suggest(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
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
 * Returns the words (up to two, the second only after a group word) and every other token in order. Not commander's
 * subcommand dispatch: that needs every command's options before parsing, and `podnet` loads only the command run.
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

/** The flag column of an option in help: `-f, --follow`, `--tail <n>`, `--wait | --no-wait`. */
export function optionTerm(name: string, def: OptionDef): string {
  const flag = [def.short ? `-${def.short}, ` : "", `--${name}`, def.value ? ` <${def.value}>` : ""].join("");
  return def.negatable ? `${flag} | --no-${name}` : flag;
}

/** Help lines `  term  description`, aligned and wrapped at 80 columns by commander's help formatter. */
export function describeItems(items: readonly (readonly [term: string, description: string])[]): string[] {
  const help = new Help();
  const width = Math.max(0, ...items.map(([term]) => help.displayWidth(term)));
  return items.map(([term, description]) => help.formatItem(term, width, description, help));
}

/** Help lines for options: `  --duration <d>   what it does`, aligned. */
export function describeOptions(spec: OptionSpec): string[] {
  return describeItems(Object.entries(spec).map(([name, def]) => [optionTerm(name, def), def.description] as const));
}
