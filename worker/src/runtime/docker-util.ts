/** Small helpers around dockerode: status codes of its errors, JSON progress streams, bounded parallelism, locks. */

/** The HTTP status of a dockerode error (`statusCode`), or undefined for other errors. */
export function dockerStatus(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "statusCode" in error) {
    const status = (error as { statusCode: unknown }).statusCode;
    if (typeof status === "number") return status;
  }
  return undefined;
}

/** Runs `action` and returns undefined instead of throwing when Docker answers 404 (the object is gone). */
export async function unless404<T>(action: () => Promise<T>): Promise<T | undefined> {
  try {
    return await action();
  } catch (error) {
    if (dockerStatus(error) === 404) return undefined;
    throw error;
  }
}

/** Docker's message of a failed request (the daemon's JSON `message`), else the error's own. */
export function dockerMessage(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const json = (error as { json?: unknown }).json;
    if (typeof json === "object" && json !== null && typeof (json as { message?: unknown }).message === "string") {
      return (json as { message: string }).message;
    }
    if (error instanceof Error) return error.message;
  }
  return String(error);
}

/** One message of a Docker JSON progress stream (`/build`, `/images/load`). */
export interface ProgressMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** The JSON messages of a Docker progress stream, one object per line. */
export async function* jsonLines(stream: AsyncIterable<unknown>): AsyncGenerator<ProgressMessage> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += typeof chunk === "string" ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== "") yield parseLine(line);
      newline = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  if (buffered.trim() !== "") yield parseLine(buffered.trim());
}

function parseLine(line: string): ProgressMessage {
  try {
    return JSON.parse(line) as ProgressMessage;
  } catch {
    throw new Error(`Docker sent a progress line that is not JSON: ${line.slice(0, 200)}`);
  }
}

/**
 * Maps `items` through `action` with at most `limit` calls in flight: enough to overlap Docker round trips, few
 * enough not to flood the daemon with a 16 × 16 container pod. Rejects with the first error once all calls settled.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  action: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = await action(items[index] as T);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (errors.length > 0) throw errors[0];
  return results;
}

/**
 * Serialises work per key inside one process: two reconcile passes over the same lease then run one after the other
 * instead of interleaving their creates and removes. (Across processes, deterministic names do that job.)
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `action` once every earlier action of `key` has settled. */
  async run<T>(key: string, action: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.then(action, action);
    const tail = current.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await current;
    } finally {
      // Forget the key once nothing is queued behind us, so the map does not grow with every lease ever seen.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
