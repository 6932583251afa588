/**
 * Byte progress for the long steps of `podnet` (encrypting an image, uploading a blob): on a terminal, a live bar with
 * bytes, percentage and rate drawn by cli-progress; elsewhere (CI logs, pipes, tests) one summary line when the step
 * ends, so logs are not flooded with redraws. Always on stderr: stdout stays the command's result.
 */
import { SingleBar } from "cli-progress";

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** 1536 → "1.5 KiB": binary units, one decimal; exact bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB"];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Bytes per second as "12.3 MiB/s"; "-" before any time has passed. */
export function formatRate(bytes: number, ms: number): string {
  return ms <= 0 ? "-" : `${formatBytes(Math.round((bytes * 1000) / ms))}/s`;
}

export class ByteProgress {
  private readonly bar?: SingleBar;
  private readonly started: number;
  private bytes = 0;
  private finished = false;

  /** `total` in bytes when known beforehand (an upload); unknown (a `docker save` stream) shows bytes and rate only. */
  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly total?: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
    if (stream.isTTY) {
      const known = total !== undefined && total > 0;
      this.bar = new SingleBar({
        stream: stream as NodeJS.WritableStream,
        format: known ? "{label} [{bar}] {percentage}% {done}/{size} {rate}" : "{label} {done} {rate}",
        barsize: 24,
        hideCursor: false,
        clearOnComplete: false,
        fps: 10,
      });
      this.bar.start(known ? total : 1, 0, this.payload());
    }
  }

  /** The bytes done so far (a running total, not an increment). */
  update(bytes: number): void {
    this.bytes = bytes;
    this.bar?.update(this.total ? bytes : 0, this.payload());
  }

  /** Ends the step: the bar's last frame on a terminal, else the summary line. Once only. */
  done(): void {
    if (this.finished) return;
    this.finished = true;
    const ms = this.now() - this.started;
    if (this.bar) {
      this.bar.update(this.total ? this.bytes : 0, this.payload());
      this.bar.stop();
      return;
    }
    this.stream.write(
      `${this.label}: ${formatBytes(this.bytes)} in ${(ms / 1000).toFixed(1)} s (${formatRate(this.bytes, ms)})\n`,
    );
  }

  private payload() {
    return {
      label: this.label,
      done: formatBytes(this.bytes),
      size: formatBytes(this.total ?? 0),
      rate: formatRate(this.bytes, this.now() - this.started),
    };
  }
}
