/**
 * What `podnet` prints. Results go to stdout: aligned tables and `label  value` blocks for people, or with `--json`
 * one JSON document (bigints as decimal strings, so amounts stay exact). Progress lines ("quote ✓ ...") go to stderr
 * in both modes, so stdout stays machine-readable.
 */

import { ByteProgress } from "./progress.js";

export interface Writable {
  write(chunk: string): unknown;
  /** A terminal gets live progress bars; anything else gets one line per finished step. */
  isTTY?: boolean;
}

/** JSON with bigints as decimal strings and undefined fields left out. */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v), indent);
}

/** Columns padded to their widest cell, two spaces apart; the header row is upper-cased. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header.map((h) => h.toUpperCase()), ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? "").length)));
  return all
    .map((row) =>
      row
        .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `label  value` lines with the labels padded to the widest. Rows whose value is undefined are skipped. */
export function fields(rows: readonly (readonly [string, string | undefined])[]): string {
  const shown = rows.filter((row): row is readonly [string, string] => row[1] !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}

export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: Writable,
    private readonly stderr: Writable,
  ) {}

  /** A progress line on stderr. */
  progress(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  /** A byte progress bar on stderr for a long step (a live bar on a terminal, else one line when it ends). */
  meter(label: string, total?: number): ByteProgress {
    return new ByteProgress(this.stderr, label, total);
  }

  /** The command's result: `data` as JSON with --json, else the human text. */
  result(data: unknown, human: () => string): void {
    if (this.json) this.stdout.write(`${toJson(data)}\n`);
    else {
      const text = human();
      if (text !== "") this.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    }
  }

  /** Raw text on stdout (log lines). */
  write(text: string): void {
    this.stdout.write(text);
  }

  /** Raw text on stderr (log lines of a container's stderr). */
  writeErr(text: string): void {
    this.stderr.write(text);
  }
}
