import { UsageError } from "../args.js";
import type { CommandModule } from "../command-module.js";
import { completionScript, type LazyCommand, loadCompletionTable, SHELLS, type Shell } from "../completion.js";
import { globalOptions } from "../config.js";

/**
 * `podnet completion <shell>`. Made from the command table it completes (commands.ts passes it in), because importing
 * commands.ts here would close an import cycle: commands.ts loads this module.
 */
export function completionCommand(commands: readonly LazyCommand[]): CommandModule {
  return {
    options: {},
    help: `Prints the shell completion script for bash, zsh or fish: command words, subcommands and each command's
options. Load it in the current shell, or from your shell's startup file:

  source <(podnet completion bash)     # ~/.bashrc
  source <(podnet completion zsh)      # ~/.zshrc, after compinit
  podnet completion fish | source      # ~/.config/fish/config.fish`,
    async run(ctx, args) {
      const [shell, extra] = args.positionals;
      if (shell === undefined) throw new UsageError(`completion: name the shell (${SHELLS.join(", ")})`);
      if (!SHELLS.includes(shell as Shell)) {
        throw new UsageError(
          `completion: ${JSON.stringify(shell)} is not a shell podnet completes (${SHELLS.join(", ")})`,
        );
      }
      if (extra !== undefined) throw new UsageError(`completion: unexpected argument ${extra}`);
      ctx.out.write(completionScript(shell as Shell, await loadCompletionTable(commands, globalOptions)));
    },
  };
}
