/** The chunks of `source` unchanged, with the running byte total reported as each one passes (progress displays). */
export async function* countedChunks(
  source: AsyncIterable<Uint8Array>,
  onBytes: (total: number) => void,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  onBytes(total);
  for await (const chunk of source) {
    total += chunk.length;
    onBytes(total);
    yield chunk;
  }
}
