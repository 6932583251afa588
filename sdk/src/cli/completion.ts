/**
 * Shell completion scripts for `podnet` (bash, zsh, fish), generated from the command table and each command's
 * options, so a new command or option completes without touching this file. Commander has no completion of its own;
 * the scripts are static (no `podnet` process per Tab press): the table is read once, when the shell loads them.
 *
 * Every script finds the command the same way: it skips options (and the values of global options) and takes the
 * first word, plus the second when the first is a group (`app create`). An unknown command completes to nothing.
 */
import type { OptionSpec } from "./args.js";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** What a script needs of one command. */
export interface CompletionCommand {
  /** One or two words: `deploy`, `app create`. */
  name: string;
  summary: string;
  options: OptionSpec;
}

/** What a script needs: every command, and the options every command takes. */
export interface CompletionTable {
  commands: readonly CompletionCommand[];
  globalOptions: OptionSpec;
}

/** A command table entry as commands.ts has it (structurally: this module must not import commands.ts). */
export interface LazyCommand {
  name: string;
  summary: string;
  load(): Promise<{ options: OptionSpec }>;
}

/** Loads every command module for its options (once, when the script is generated). */
export async function loadCompletionTable(
  commands: readonly LazyCommand[],
  globalOptions: OptionSpec,
): Promise<CompletionTable> {
  const loaded = await Promise.all(
    commands.map(async (c) => ({ name: c.name, summary: c.summary, options: (await c.load()).options })),
  );
  return { commands: loaded, globalOptions };
}

/** Words and option names go into the scripts unquoted; anything but these characters would be shell syntax. */
const SAFE_WORD = /^[a-z0-9][a-z0-9-]*$/;

function checkedTable(table: CompletionTable): CompletionTable {
  for (const c of table.commands) {
    for (const word of c.name.split(" ")) {
      if (!SAFE_WORD.test(word)) throw new Error(`completion: command word ${JSON.stringify(word)} is not [a-z0-9-]`);
    }
    for (const name of Object.keys({ ...table.globalOptions, ...c.options })) {
      if (!SAFE_WORD.test(name)) throw new Error(`completion: option ${JSON.stringify(name)} is not [a-z0-9-]`);
    }
  }
  return table;
}

/** The words a command line can start with: the commands, the group words, `help`. */
function topWords(table: CompletionTable): string[] {
  return [...new Set([...table.commands.map((c) => c.name.split(" ")[0] as string), "help"])];
}

/** The one-line description of a word offered at `prefix` (`""` or `"app "`), for the shells that show one. */
function summaryOf(table: CompletionTable, prefix: string, word: string): string {
  const command = table.commands.find((c) => c.name === `${prefix}${word}`);
  if (command) return command.summary;
  if (prefix === "" && word === "help") return "the help of a command";
  return `the ${word} commands`;
}

/** Group word → its subcommands. */
function groupsOf(table: CompletionTable): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const c of table.commands) {
    const [group, sub] = c.name.split(" ");
    if (sub === undefined) continue;
    groups.set(group as string, [...(groups.get(group as string) ?? []), sub]);
  }
  return groups;
}

/** `--json --rpc-url --no-wait ...`: the long flags a command accepts, global ones included. */
function flagsOf(command: CompletionCommand, globalOptions: OptionSpec): string[] {
  return Object.entries({ ...command.options, ...globalOptions }).flatMap(([name, def]) =>
    def.negatable ? [`--${name}`, `--no-${name}`] : [`--${name}`],
  );
}

/** Global options that take a value: the scripts skip the value when looking for the command word. */
function globalValueFlags(table: CompletionTable): string {
  const flags = Object.entries(table.globalOptions).filter(([, def]) => def.type !== "boolean");
  return flags.map(([name]) => `--${name}`).join("|");
}

/** The `podnet completion` argument words, completed after `podnet completion`. */
function positionalWords(command: CompletionCommand): string[] {
  return command.name === "completion" ? [...SHELLS] : [];
}

export function completionScript(shell: Shell, table: CompletionTable): string {
  const checked = checkedTable(table);
  if (shell === "bash") return bashScript(checked);
  if (shell === "zsh") return zshScript(checked);
  return fishScript(checked);
}

/**
 * The shell loop that sets `key` to the command typed so far (`""`, `app`, `app create`, `deploy`); bash and zsh
 * share it, only the array indexes differ (`first` and `current` are the first and the current word's index).
 * Bash splits words at `=` and `:` (COMP_WORDBREAKS), so `--rpc-url=http://x:1` arrives as `--rpc-url`, `=`, `http`,
 * `:`, `//x`, `:`, `1`: a value is skipped with every `:`-joined piece after it.
 */
function findKeyLoop(table: CompletionTable, words: string, first: number, current: string): string[] {
  const groups = [...groupsOf(table).keys()].join("|");
  const skipValue = `((i++)); while [[ \${${words}[i+1]} == ":" ]]; do ((i += 2)); done; continue`;
  return [
    `  local key="" word i`,
    `  for ((i = ${first}; i < ${current}; i++)); do`,
    `    word=\${${words}[i]}`,
    "    case $word in",
    `      ${globalValueFlags(table)}) [[ \${${words}[i+1]} == "=" ]] && ((i++)); ${skipValue} ;;`,
    `      "=") ${skipValue} ;;`,
    "      -*) continue ;;",
    "    esac",
    `    if [[ -z $key ]]; then`,
    "      key=$word",
    `      case $key in ${groups}) ;; *) break ;; esac`,
    "    else",
    `      key="$key $word"`,
    "      break",
    "    fi",
    "  done",
  ];
}

function bashScript(table: CompletionTable): string {
  const groups = groupsOf(table);
  const arms = [
    `    ""|help) values="${topWords(table).join(" ")}" ;;`,
    ...[...groups].map(([group, subs]) => `    ${group}) values="${subs.join(" ")}" ;;`),
    ...table.commands.map(
      (c) =>
        `    "${c.name}") flags="${flagsOf(c, table.globalOptions).join(" ")}"; values="${positionalWords(c).join(" ")}"; files=1 ;;`,
    ),
    "    *) return 0 ;;",
  ];
  return [
    "# podnet completion for bash: source <(podnet completion bash)",
    "_podnet() {",
    "  COMPREPLY=()",
    `  local cur=\${COMP_WORDS[COMP_CWORD]}`,
    ...findKeyLoop(table, "COMP_WORDS", 1, "COMP_CWORD"),
    `  local values="" flags="" files=0`,
    "  case $key in",
    ...arms,
    "  esac",
    "  if [[ $cur == -* ]]; then",
    `    mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")`,
    `  elif [[ -n $values ]]; then`,
    `    mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")`,
    `  elif ((files)); then`,
    "    compopt -o filenames 2>/dev/null",
    `    mapfile -t COMPREPLY < <(compgen -f -- "$cur")`,
    "  fi",
    "  return 0",
    "}",
    "complete -F _podnet podnet",
    "",
  ].join("\n");
}

/** A zsh single-quoted string. */
function zshQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function zshScript(table: CompletionTable): string {
  const groups = groupsOf(table);
  const described = (words: string[], prefix: string) =>
    words.map((w) => zshQuote(`${w}:${summaryOf(table, prefix, w)}`));
  const arms = [
    `    ""|help) described=(${described(topWords(table), "").join(" ")}) ;;`,
    ...[...groups].map(([group, subs]) => `    ${group}) described=(${described(subs, `${group} `).join(" ")}) ;;`),
    ...table.commands.map(
      (c) =>
        `    "${c.name}") flags=(${flagsOf(c, table.globalOptions).join(" ")}); values=(${positionalWords(c).join(" ")}); files=1 ;;`,
    ),
    "    *) return 1 ;;",
  ];
  return [
    "#compdef podnet",
    "# podnet completion for zsh (after compinit): source <(podnet completion zsh)",
    "_podnet() {",
    `  local cur=\${words[CURRENT]}`,
    ...findKeyLoop(table, "words", 2, "CURRENT"),
    "  local -a described flags values",
    "  local files=0",
    "  case $key in",
    ...arms,
    "  esac",
    "  if [[ $cur == -* ]]; then",
    "    compadd -- $flags",
    "  elif (( $#described )); then",
    "    _describe command described",
    "  elif (( $#values )); then",
    "    compadd -- $values",
    "  elif ((files)); then",
    "    _files",
    "  fi",
    "}",
    "compdef _podnet podnet",
    "",
  ].join("\n");
}

/** A fish single-quoted string. */
function fishQuote(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function fishScript(table: CompletionTable): string {
  const groups = groupsOf(table);
  const top = topWords(table);
  const lines = [
    "# podnet completion for fish: podnet completion fish | source",
    "complete -c podnet -f",
    ...top.map(
      (word) => `complete -c podnet -n '__fish_use_subcommand' -a ${word} -d ${fishQuote(summaryOf(table, "", word))}`,
    ),
    ...[...groups].flatMap(([group, subs]) =>
      subs.map((sub) => {
        const condition = `__fish_seen_subcommand_from ${group}; and not __fish_seen_subcommand_from ${subs.join(" ")}`;
        return `complete -c podnet -n '${condition}' -a ${sub} -d ${fishQuote(summaryOf(table, `${group} `, sub))}`;
      }),
    ),
  ];
  const groupWords = [...groups.keys()].join(" ");
  for (const c of table.commands) {
    const words = c.name.split(" ");
    // `status` alone, not the `status` of `app status`.
    const single = words.length === 1 && groupWords !== "" ? `; and not __fish_seen_subcommand_from ${groupWords}` : "";
    const condition = words.map((w) => `__fish_seen_subcommand_from ${w}`).join("; and ") + single;
    for (const [name, def] of Object.entries({ ...c.options, ...table.globalOptions })) {
      const value = def.type === "boolean" ? "" : " -r -F";
      lines.push(`complete -c podnet -n ${fishQuote(condition)} -l ${name}${value} -d ${fishQuote(def.description)}`);
      if (def.negatable) lines.push(`complete -c podnet -n ${fishQuote(condition)} -l no-${name}`);
    }
    const values = positionalWords(c);
    for (const word of values) lines.push(`complete -c podnet -n ${fishQuote(condition)} -a ${word}`);
    // Arguments are mostly files (pod.yaml, a docker-save tar); the table does not say which, so files are offered.
    if (values.length === 0) lines.push(`complete -c podnet -n ${fishQuote(condition)} -F`);
  }
  return `${lines.join("\n")}\n`;
}
