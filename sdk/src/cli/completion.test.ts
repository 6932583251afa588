import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompletionTable, completionScript, SHELLS } from "./completion.js";

const BIN = join(import.meta.dirname, "..", "..", "bin", "podnet.mjs");

/**
 * Whether `shell` can be tested: bash always is here; zsh and fish may be missing on a developer's machine, and their
 * tests are then skipped. CI installs both (script/toolchain/debian-tools.sh), so there they always run.
 */
const installed = (shell: string) => process.env.CI === "true" || spawnSync(shell, ["-c", "exit 0"]).status === 0;

let dir: string;
let script: string;
const scripts: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "podnet-completion-"));
  // The scripts as a user gets them: from the real binary, through main, the command table and every command module.
  for (const shell of SHELLS) {
    scripts[shell] = join(dir, `podnet.${shell}`);
    writeFileSync(scripts[shell], execFileSync(process.execPath, [BIN, "completion", shell], { encoding: "utf8" }));
  }
  script = scripts.bash as string;
  mkdirSync(join(dir, "work"));
  writeFileSync(join(dir, "work", "pod.yaml"), "");
  writeFileSync(join(dir, "work", "other.txt"), "");
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What real bash offers for `line` (the last word is the one being completed), and what it printed on stderr. */
function complete(line: string[]): { offered: string[]; stderr: string; status: number | null } {
  const run = spawnSync(
    "bash",
    [
      "--norc",
      "--noprofile",
      "-c",
      `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _podnet; printf "%s\\n" "\${COMPREPLY[@]}"`,
      "bash",
      script,
      ...line,
    ],
    { cwd: join(dir, "work"), encoding: "utf8" },
  );
  return { offered: run.stdout.split("\n").filter((l) => l !== ""), stderr: run.stderr, status: run.status };
}

describe("cli: bash completion (real bash, the script from `podnet completion bash`)", () => {
  it("registers itself for podnet", () => {
    const run = spawnSync("bash", ["--norc", "--noprofile", "-c", 'source "$1"; complete -p podnet', "bash", script], {
      encoding: "utf8",
    });
    expect(run.stdout.trim()).toBe("complete -F _podnet podnet");
  });

  it("completes command words, group words and subcommands", () => {
    expect(complete(["podnet", "de"]).offered).toEqual(["deploy"]);
    expect(complete(["podnet", "comp"]).offered).toEqual(["completion"]);
    expect(complete(["podnet", "app", ""]).offered).toEqual([
      "create",
      "fund",
      "status",
      "scale",
      "update",
      "withdraw",
      "destroy",
      "share-keys",
      "hand-over",
    ]);
    expect(complete(["podnet", "key", "i"]).offered).toEqual(["import"]);
    expect(complete(["podnet", "help", "qu"]).offered).toEqual(["quote"]);
    expect(complete(["podnet", "completion", ""]).offered).toEqual(["bash", "zsh", "fish"]);
  });

  it("completes each command's long options, global ones and --no-<flag> included", () => {
    expect(complete(["podnet", "deploy", "--pro"]).offered).toEqual(["--provider"]);
    expect(complete(["podnet", "deploy", "pod.yaml", "--no-"]).offered).toEqual(["--no-wait"]);
    expect(complete(["podnet", "app", "create", "--net"]).offered).toEqual(["--network"]);
    expect(complete(["podnet", "status", "7", "--js"]).offered).toEqual(["--json"]);
    // Not another command's options.
    expect(complete(["podnet", "status", "--pro"]).offered).toEqual([]);
  });

  it("finds the command after global options, skipping their values", () => {
    expect(complete(["podnet", "--json", "app", "cr"]).offered).toEqual(["create"]);
    // `status` is the keystore's file name here, not the command.
    expect(complete(["podnet", "--keystore", "status", "deploy", "--pro"]).offered).toEqual(["--provider"]);
    // `--rpc-url=http://x:1 app cr` as bash splits it at = and : (COMP_WORDBREAKS).
    const url = ["--rpc-url", "=", "http", ":", "//x", ":", "1"];
    expect(complete(["podnet", ...url, "app", "cr"]).offered).toEqual(["create"]);
    expect(complete(["podnet", ...url.slice(0, 1), ...url.slice(2), "de"]).offered).toEqual(["deploy"]);
    // An unknown option's inline value is no command either.
    expect(complete(["podnet", "--bogus", "=", "status", "de"]).offered).toEqual(["deploy"]);
  });

  it("completes files for arguments", () => {
    expect(complete(["podnet", "deploy", "p"]).offered).toEqual(["pod.yaml"]);
  });

  it("offers nothing for an unknown command, quietly, and never runs what was typed", () => {
    for (const line of [
      ["podnet", "bogus", ""],
      ["podnet", "bogus", "--pro"],
      ["podnet", "app", "bogus", "--"],
      ["podnet", "xyz"],
    ]) {
      expect(complete(line)).toEqual({ offered: [], stderr: "", status: 0 });
    }
    const marker = join(dir, "work", "pwned");
    for (const line of [
      ["podnet", `$(touch ${marker})`],
      ["podnet", `$(touch ${marker})`, ""],
      ["podnet", "deploy", `--$(touch ${marker})`],
      ["podnet", "deploy", `\`touch ${marker}\``],
    ]) {
      expect(complete(line)).toEqual({ offered: [], stderr: "", status: 0 });
    }
    expect(existsSync(marker)).toBe(false);
  });
});

/** Lines typed before Tab, and what every shell must offer; the same behaviour as the bash cases above. */
const CASES: [line: string, offered: string[]][] = [
  ["podnet de", ["deploy"]],
  ["podnet app ", ["create", "fund", "status", "scale", "update", "withdraw", "destroy", "share-keys", "hand-over"]],
  ["podnet deploy --pro", ["--provider"]],
  ["podnet deploy pod.yaml --no-", ["--no-wait"]],
  ["podnet --json app cr", ["create"]],
  ["podnet --rpc-url=http://x:1 de", ["deploy"]],
  ["podnet completion ", ["bash", "fish", "zsh"]],
  ["podnet deploy p", ["pod.yaml"]],
  // `status` of `app status` takes no --events.
  ["podnet app status --ev", []],
  ["podnet bogus ", []],
  ["podnet bogus --p", []],
];

describe.skipIf(!installed("zsh"))("cli: zsh completion (real zsh, Tab in a pseudo-terminal)", () => {
  const complete = (line: string) => {
    const run = spawnSync(
      "zsh",
      ["-f", join(import.meta.dirname, "completion.test.zsh"), scripts.zsh as string, line],
      {
        cwd: join(dir, "work"),
        encoding: "utf8",
        timeout: 20_000,
      },
    );
    return { offered: run.stdout.split("\n").filter((l) => l !== ""), stderr: run.stderr, status: run.status };
  };

  it.each(CASES)("%j", (line, offered) => {
    const run = complete(line);
    expect({ ...run, offered: run.offered.sort() }).toEqual({ offered: [...offered].sort(), stderr: "", status: 0 });
  });

  it("runs nothing typed on the line", () => {
    const marker = join(dir, "work", "pwned-zsh");
    expect(complete(`podnet $(touch ${marker}) `).offered).toEqual([]);
    expect(complete(`podnet deploy --$(touch ${marker})`).offered).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });
});

describe.skipIf(!installed("fish"))("cli: fish completion (real fish, complete -C)", () => {
  const complete = (line: string) => {
    const run = spawnSync(
      "fish",
      ["--no-config", "-c", "source $argv[1]; complete -C $argv[2]", scripts.fish as string, line],
      {
        cwd: join(dir, "work"),
        encoding: "utf8",
        timeout: 20_000,
      },
    );
    // fish prints `word<TAB>description`.
    const offered = run.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("\t")[0] as string);
    return { offered, stderr: run.stderr, status: run.status };
  };

  it.each(CASES)("%j", (line, offered) => {
    const run = complete(line);
    expect({ ...run, offered: run.offered.sort() }).toEqual({ offered: [...offered].sort(), stderr: "", status: 0 });
  });

  it("shows each command's summary and each option's description", () => {
    expect(complete("podnet de").offered).toEqual(["deploy"]);
    const run = spawnSync(
      "fish",
      ["--no-config", "-c", 'source $argv[1]; complete -C "podnet deploy --pro"', scripts.fish as string],
      {
        encoding: "utf8",
      },
    );
    expect(run.stdout).toMatch(/^--provider\t\S.*\n$/);
  });

  it("runs nothing typed on the line", () => {
    const marker = join(dir, "work", "pwned-fish");
    expect(complete(`podnet (touch ${marker}) `).offered).toEqual([]);
    expect(complete(`podnet deploy --(touch ${marker})`).offered).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });
});

describe("cli: completion scripts", () => {
  const table: CompletionTable = {
    commands: [
      {
        name: "deploy",
        summary: "lease a provider",
        options: { wait: { type: "boolean", negatable: true, description: "wait" } },
      },
      { name: "app create", summary: "create an app's vault", options: {} },
    ],
    globalOptions: { json: { type: "boolean", description: "JSON on stdout" } },
  };

  it("names every command and option in each shell's script", () => {
    for (const shell of SHELLS) {
      const text = completionScript(shell, table);
      const flags = shell === "fish" ? ["-l wait", "-l no-wait", "-l json"] : ["--wait", "--no-wait", "--json"];
      for (const word of ["deploy", "app", "create", ...flags]) expect(text, shell).toContain(word);
    }
    expect(completionScript("fish", table)).toContain(
      "complete -c podnet -n '__fish_seen_subcommand_from app; and __fish_seen_subcommand_from create' -l json -d 'JSON on stdout'",
    );
    expect(completionScript("zsh", table)).toContain("compdef _podnet podnet");
  });

  it("refuses a command or option name that would be shell syntax in the script", () => {
    const hostile: CompletionTable = { ...table, commands: [{ name: "deploy;rm", summary: "", options: {} }] };
    expect(() => completionScript("bash", hostile)).toThrow('completion: command word "deploy;rm" is not [a-z0-9-]');
    const option: CompletionTable = {
      ...table,
      commands: [{ name: "deploy", summary: "", options: { "x$(id)": { type: "boolean", description: "" } } }],
    };
    expect(() => completionScript("bash", option)).toThrow('completion: option "x$(id)" is not [a-z0-9-]');
  });

  it("quotes descriptions for zsh and fish", () => {
    const quoted: CompletionTable = { ...table, commands: [{ name: "deploy", summary: "it's $(id)", options: {} }] };
    expect(completionScript("zsh", quoted)).toContain(`'deploy:it'\\''s $(id)'`);
    expect(completionScript("fish", quoted)).toContain(`-a deploy -d 'it\\'s $(id)'`);
  });
});
