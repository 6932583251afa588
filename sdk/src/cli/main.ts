/**
 * `podnet`, the publisher CLI: parses the command line, resolves the global settings, runs one command and turns
 * every failure into one clear message and an exit code (1, or 2 for usage errors). See docs/cli.md.
 */
import { describeItems, describeOptions, parseArgs, splitCommand, UsageError } from "./args.js";
import { type CommandInfo, commands, findCommand, groups } from "./commands.js";
import { Context, globalOptions, resolveSettings } from "./config.js";
import { debugDetails, describeError, exitCodeOf, redact } from "./errors.js";
import type { KeyIo } from "./keys.js";
import { Output } from "./output.js";

export const VERSION = "0.1.0";

export interface CliIo extends KeyIo {
  stdout: NodeJS.WritableStream;
  cwd: string;
  /**
   * Receives the Ctrl-C handler, which returns whether the running command stops gracefully by itself (log follow,
   * waits); when it returns false the process should exit at once.
   */
  onInterrupt?: (handler: () => boolean) => void;
}

function overview(): string {
  return [
    "podnet: deploy containers on the Podnet marketplace",
    "",
    "usage: podnet <command> [arguments] [options]",
    "",
    "commands:",
    ...describeItems(commands.map((c) => [`${c.name} ${c.args}`.trim(), c.summary] as const)),
    "",
    "global options:",
    ...describeOptions(globalOptions),
    "",
    "The key: PODNET_PUBLISHER_KEY, or the keystore (podnet key new | import) unlocked with",
    "PODNET_KEYSTORE_PASSWORD or a prompt. `podnet <command> --help` shows a command's options; docs/cli.md has more.",
  ].join("\n");
}

function commandHelp(info: CommandInfo, help: string, options: Parameters<typeof describeOptions>[0]): string {
  const own = describeOptions(options);
  return [
    `usage: podnet ${info.name} ${info.args}`.trimEnd(),
    "",
    `${info.summary[0]?.toUpperCase()}${info.summary.slice(1)}.`,
    ...(help ? ["", help] : []),
    ...(own.length > 0 ? ["", "options:", ...own] : []),
    "",
    "global options:",
    ...describeOptions(globalOptions),
  ].join("\n");
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const secrets: string[] = [];
  const wantsJson = argv.includes("--json");
  try {
    const { words, rest } = splitCommand(argv, globalOptions, (word) => groups.has(word));
    if (words[0] === "help") {
      // `podnet help key new`: the words after help, wherever the global options put them.
      const asked = [...words.slice(1), ...rest.filter((a) => !a.startsWith("-"))];
      const info = findCommand(asked.slice(0, 2)) ?? findCommand(asked.slice(0, 1));
      const module = await info?.load();
      io.stdout.write(`${info && module ? commandHelp(info, module.help, module.options) : overview()}\n`);
      return 0;
    }
    if (words.length === 0) {
      if (rest.includes("--version")) {
        io.stdout.write(`podnet ${VERSION}\n`);
        return 0;
      }
      io.stdout.write(`${overview()}\n`);
      return rest.some((a) => a === "--help" || a === "-h") ? 0 : 2;
    }
    const info = findCommand(words);
    if (!info) {
      if (groups.has(words[0] as string)) {
        const subs = commands.filter((c) => c.name.startsWith(`${words[0]} `)).map((c) => c.name);
        if (words.length === 1 && rest.some((a) => a === "--help" || a === "-h")) {
          io.stdout.write(`${subs.map((s) => `podnet ${s}`).join("\n")}\n`);
          return 0;
        }
        throw new UsageError(
          `${words.join(" ")}: unknown command; ${words[0]} takes ${subs.map((s) => s.split(" ")[1]).join(", ")}`,
        );
      }
      throw new UsageError(`${words[0]}: unknown command (podnet --help lists them)`);
    }
    const module = await info.load();
    const spec = { ...globalOptions, ...module.options };
    const parsed = parseArgs(rest, spec);
    if (parsed.options.help) {
      io.stdout.write(`${commandHelp(info, module.help, module.options)}\n`);
      return 0;
    }
    const out = new Output(parsed.options.json === true, io.stdout, io.stderr);
    const settings = resolveSettings(parsed.options, io.env, io.cwd);
    const controller = new AbortController();
    const ctx = new Context(settings, out, io, io.cwd, controller.signal, secrets);
    io.onInterrupt?.(() => {
      if (!ctx.graceful || controller.signal.aborted) return false;
      controller.abort();
      return true;
    });
    await module.run(ctx, parsed);
    return 0;
  } catch (error) {
    const message = redact(describeError(error), secrets);
    const code = exitCodeOf(error);
    const hint = code === 2 && !message.includes("--help") ? "\n(podnet --help for usage)" : "";
    io.stderr.write(`error: ${message.replaceAll("\n", "\n  ")}${hint}\n`);
    if (io.env.PODNET_DEBUG === "1") io.stderr.write(`${redact(debugDetails(error), secrets)}\n`);
    if (wantsJson && code !== 2) {
      // Scripts reading stdout get an error document instead of nothing.
      io.stdout.write(`${JSON.stringify({ error: { message, exitCode: code } }, null, 2)}\n`);
    }
    return code;
  }
}
