import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { main, VERSION } from "./main.js";

const cwd = mkdtempSync(join(tmpdir(), "podnet-main-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** Runs `podnet argv` in-process, with no network, no key and an empty working folder. */
async function podnet(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = new PassThrough().on("data", (chunk) => {
    stdout += chunk;
  });
  const code = await main(argv, {
    stdin: new PassThrough(),
    stdout: out,
    stderr: { write: (text: string) => (stderr += text) },
    env: { HOME: cwd, PODNET_RPC_URL: "http://127.0.0.1:9" },
    cwd,
  });
  return { code, stdout, stderr };
}

describe("cli: main", () => {
  it("prints the version, the overview and a command's help", async () => {
    expect(await podnet("--version")).toEqual({ code: 0, stdout: `podnet ${VERSION}\n`, stderr: "" });
    const overview = await podnet("--help");
    expect(overview.code).toBe(0);
    expect(overview.stdout).toMatch(/^ {2}completion bash\|zsh\|fish +print the shell completion script/m);
    expect(overview.stdout).toMatch(/^ {2}--rpc-url <url> +JSON-RPC endpoint/m);
    for (const argv of [
      ["help", "deploy"],
      ["deploy", "--help"],
      ["--json", "help", "deploy"],
    ]) {
      const help = await podnet(...argv);
      expect(help.code, argv.join(" ")).toBe(0);
      expect(help.stdout).toMatch(/^usage: podnet deploy <pod\.yaml>/);
      expect(help.stdout).toMatch(/^ {2}--wait \| --no-wait +/m);
    }
    expect((await podnet("help", "app", "create")).stdout).toMatch(/^usage: podnet app create /);
  });

  it("turns option mistakes into usage errors (exit 2) before a command runs", async () => {
    const typo = await podnet("init", "--shema", "x");
    expect(typo).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: --shema: unknown option (did you mean --schema?)\n(podnet --help for usage)\n",
    });
    const twice = await podnet("--keystore", "a", "status", "7", "--keystore", "b");
    expect(twice.stderr).toBe("error: --keystore: given more than once\n(podnet --help for usage)\n");
    expect((await podnet("app", "bogus")).stderr).toMatch(
      /^error: app bogus: unknown command; app takes create, fund,/,
    );
    expect((await podnet("bogus")).stderr).toBe("error: bogus: unknown command (podnet --help lists them)\n");
    // A usage error prints no JSON document: nothing ran.
    expect((await podnet("--json", "deploy", "--durration", "1h")).stdout).toBe("");
  });

  it("completion: names the shell it needs", async () => {
    expect((await podnet("completion")).stderr).toMatch(/^error: completion: name the shell \(bash, zsh, fish\)\n/);
    const unknown = await podnet("completion", "tcsh");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: completion: "tcsh" is not a shell podnet completes \(bash, zsh, fish\)\n/);
    const bash = await podnet("completion", "bash");
    expect(bash.code).toBe(0);
    expect(bash.stdout).toMatch(/^# podnet completion for bash/);
    expect(bash.stdout).toContain("complete -F _podnet podnet");
  });
});
