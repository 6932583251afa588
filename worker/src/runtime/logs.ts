/**
 * Docker's multiplexed log stream. Without a TTY (pods never get one) the daemon frames every log record with an
 * 8-byte header: byte 0 is the stream (1 stdout, 2 stderr), bytes 4-7 the big-endian payload length.
 */

/** One log record of a container. */
export interface LogRecord {
  stream: "stdout" | "stderr";
  /** The record as the container wrote it: normally one line with its trailing newline. */
  text: string;
}

const HEADER_BYTES = 8;

/** Splits Docker's multiplexed stream into records, whatever the chunk boundaries. */
export async function* demuxLogs(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<LogRecord> {
  // One decoder per stream: a UTF-8 character split across two records of the same stream is reassembled.
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  let buffer: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    buffer = buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffer, Buffer.from(chunk)]);
    let offset = 0;
    while (buffer.length - offset >= HEADER_BYTES) {
      const length = buffer.readUInt32BE(offset + 4);
      if (buffer.length - offset < HEADER_BYTES + length) break;
      const kind = buffer[offset];
      const payload = buffer.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
      offset += HEADER_BYTES + length;
      // Stream 0 is stdin, which is never attached; 3 carries daemon errors on attach, not on logs.
      if (kind !== 1 && kind !== 2) continue;
      const stream = kind === 1 ? "stdout" : "stderr";
      const text = decoders[stream].decode(payload, { stream: true });
      if (text !== "") yield { stream, text };
    }
    buffer = buffer.subarray(offset);
  }
  if (buffer.length > 0) throw new Error(`log stream ended inside a record (${buffer.length} bytes left over)`);
}
