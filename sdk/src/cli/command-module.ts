/**
 * What a command module gives `podnet`. Its own module, not commands.ts: commands.ts loads every command module, so a
 * command typing itself with an import of commands.ts would close an import cycle.
 */
import type { OptionSpec, ParsedArgs } from "./args.js";
import type { Context } from "./config.js";

export interface CommandModule {
  options: OptionSpec;
  /** Longer help: what the command does, examples. */
  help: string;
  run(ctx: Context, args: ParsedArgs): Promise<void>;
}
