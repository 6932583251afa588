/** Linux's /proc/<pid>/stat, read by field number: what the harness knows of a process without a library. */
import { readFileSync } from "node:fs";

/**
 * Field `field` (numbered as in proc(5): 14 utime, 22 starttime, ...) of each of `fields` of process `pid`, as strings;
 * undefined when the process is gone. The command name (field 2) may hold spaces and parentheses, so fields are
 * counted from the last ") ".
 */
export function procStat<const F extends readonly number[]>(
  pid: number | "self",
  fields: F,
): { [K in keyof F]: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const after = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
  // The text after ") " starts at field 3 (state).
  return fields.map((field) => after[field - 3] ?? "") as { [K in keyof F]: string };
}
