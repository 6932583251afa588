import { pino, stdTimeFunctions } from "pino";

/**
 * The autoscaler's log: pino, one JSON line per record on stderr, like the worker's. Fields are data (slots, lease
 * ids, providers, tx hashes); the controller key is never passed to a log call, and key-like fields are redacted in
 * case one slips in.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const redacted = ["controllerKey", "privateKey", "key", "keys", "contentKey", "signature", "secret"];

export function createLogger(level: "debug" | "info" | "warn" | "error"): Logger {
  const root = pino(
    {
      level,
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: [...redacted, ...redacted.map((f) => `*.${f}`)], censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 2, sync: true }),
  );
  const at =
    (method: "debug" | "info" | "warn" | "error") =>
    (message: string, fields: Record<string, unknown> = {}) =>
      root[method]({ msg: message, ...fields });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
