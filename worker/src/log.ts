/**
 * The worker's logs: pino, one JSON line per record on stderr (`{"level":"info","time":"…","msg":"…",…fields}`),
 * so operators get levels (`logLevel`, PODNET_LOG_LEVEL), child loggers per lease (`log.child({ lease })`) and the
 * usual tooling: `podnet-worker run 2>&1 | npx pino-pretty` for humans.
 *
 * Fields are data, never secrets: the worker logs lease ids, content ids and tx hashes. Should key material reach a
 * log call anyway (a request's headers, a config object, an upload body), the fields named in {@link redactedFields}
 * are replaced by "[redacted]" at any depth up to three levels, and in `headers` objects wherever they sit.
 */
import { type DestinationStream, pino, stdTimeFunctions } from "pino";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose every record carries `bindings` (e.g. `{ lease: "12" }`). */
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * Field names whose values are never written: keys (the provider's, private keys, content keys, the wrapped keys of a
 * manifest upload), secrets, passwords, mnemonics, signatures (a request signature is a bearer credential within its
 * replay window), and credentials in HTTP headers.
 */
export const redactedFields = [
  "providerKey",
  "privateKey",
  "secretKey",
  "contentKey",
  "key",
  "keys",
  "wrappedKey",
  "wrappedKeys",
  "secret",
  "secrets",
  "password",
  "mnemonic",
  "signature",
  "authorization",
  "cookie",
  "x-podnet-signature",
] as const;

export const REDACTED = "[redacted]";

/** pino's redaction paths for {@link redactedFields}: the field itself, one to three levels down, and in headers. */
export function redactionPaths(): string[] {
  const paths: string[] = [];
  for (const name of redactedFields) {
    const field = /^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`;
    const at = (prefix: string) => (field.startsWith("[") ? `${prefix}${field}` : `${prefix}.${field}`);
    paths.push(field.startsWith("[") ? `headers${field}` : field, at("*"), at("*.*"), at("*.*.*"));
    paths.push(at("*.headers"), at("*.*.headers"));
  }
  // "headers" at the top level is already covered by "*.name"; as a prefix it is a fixed key, not a wildcard.
  return [...new Set(paths)].filter((p) => !p.startsWith("[") && !p.startsWith("*["));
}

/** bigints as decimal strings (JSON has no bigint; token amounts must keep every digit), at any depth. */
function withBigintsAsStrings(value: unknown, depth = 0): unknown {
  if (typeof value === "bigint") return value.toString();
  if (depth > 8 || value === null || typeof value !== "object" || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => withBigintsAsStrings(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = withBigintsAsStrings(v, depth + 1);
  return out;
}

/**
 * A logger at `level`. `destination` defaults to stderr; tests pass a function that receives each line (with its
 * trailing newline).
 */
export function createLogger(
  level: LogLevel,
  destination: ((line: string) => void) | DestinationStream = pino.destination({ dest: 2, sync: true }),
): Logger {
  const stream: DestinationStream = typeof destination === "function" ? { write: destination } : destination;
  const root = pino(
    {
      level,
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: redactionPaths(), censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => withBigintsAsStrings(object) as Record<string, unknown>,
        bindings: (bindings) => withBigintsAsStrings(bindings) as Record<string, unknown>,
      },
    },
    stream,
  );
  return wrap(root);
}

function wrap(logger: pino.Logger): Logger {
  // The message goes into the object ahead of the fields, so a line reads `"msg":"bid placed","orderId":"3",…`.
  const at =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (logger.isLevelEnabled(level)) logger[level]({ msg: message, ...fields });
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (bindings) => wrap(logger.child(bindings)),
  };
}
