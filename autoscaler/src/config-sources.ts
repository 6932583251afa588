/**
 * Where the daemons of this package (`podnet-autoscaler`, `podnet-lb`) read their settings: `PODNET_<PREFIX>_<FIELD>`
 * environment variables, then `--field-name value` / `--field-name=value` flags, which win. Raw strings only; each
 * daemon's zod schema validates them and names the source of a bad one from `origin`.
 */

export interface ConfigNames {
  /** `statusUrls` → `PODNET_LB_STATUS_URLS`. */
  envName(field: string): string;
  /** `statusUrls` → `--status-urls`. */
  flagName(field: string): string;
}

export function configNames(prefix: string): ConfigNames {
  const words = (field: string, sep: string) => field.replace(/([a-z0-9])([A-Z])/g, `$1${sep}$2`);
  return {
    envName: (field) => `PODNET_${prefix}_${words(field, "_").toUpperCase()}`,
    flagName: (field) => `--${words(field, "-").toLowerCase()}`,
  };
}

export interface ConfigSourceOptions {
  fields: readonly string[];
  names: ConfigNames;
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** The daemon's error type for a bad command line. */
  fail(message: string): Error;
  /** Why a field may not come from a flag (a key would be visible in `ps`), or undefined. */
  refuseFlag?(field: string, flag: string): string | undefined;
}

/** The raw values (empty variables ignored; unknown flags, positional arguments and missing values refused). */
export function readConfigSources(o: ConfigSourceOptions): {
  merged: Record<string, unknown>;
  origin: Record<string, string>;
} {
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const field of o.fields) {
    const value = o.env[o.names.envName(field)];
    if (value !== undefined && value !== "") {
      merged[field] = value;
      origin[field] = o.names.envName(field);
    }
  }
  for (let i = 0; i < o.argv.length; i++) {
    const arg = o.argv[i] as string;
    if (!arg.startsWith("--")) throw o.fail(`${arg}: unexpected argument`);
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const value = eq === -1 ? o.argv[++i] : arg.slice(eq + 1);
    const field = o.fields.find((f) => o.names.flagName(f) === flag);
    if (!field) throw o.fail(`${flag}: unknown flag`);
    if (value === undefined || (eq === -1 && value.startsWith("--"))) throw o.fail(`${flag}: needs a value`);
    const refused = o.refuseFlag?.(field, flag);
    if (refused) throw o.fail(refused);
    merged[field] = value;
    origin[field] = flag;
  }
  return { merged, origin };
}
