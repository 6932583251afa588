/**
 * The image of a pod's infra container (infra-containers.ts): one process that holds a network namespace and does
 * nothing else, the Kubernetes "pause" container. Registries are out of reach on many provider hosts, so the worker
 * makes the image itself: a 129-byte static x86-64 ELF written here byte by byte (no libc, no toolchain), wrapped in a
 * one-file tar and given to `docker import`. Its whole program is
 *
 *     loop: mov eax, 34   ; pause(2): sleep until a signal
 *           syscall
 *           jmp loop      ; a signal it does not die of (PID 1 ignores unhandled ones) just pauses again
 *
 * so it never exits by itself, owns no file, opens nothing, and dies only of SIGKILL (`docker rm -f`).
 *
 * Other architectures get no image (undefined): their pods start on their lease network directly, as before.
 */
import { createHash } from "node:crypto";
import type Dockerode from "dockerode";
import { pack } from "tar-stream";
import { jsonLines } from "./docker-util.js";

/** Where the binary sits in the image, and what the infra container runs. */
export const PAUSE_PATH = "/pause";

const LOAD_ADDRESS = 0x400000n;
const ELF_HEADER_SIZE = 64;
const PROGRAM_HEADER_SIZE = 56;
/** mov eax, 34 (pause); syscall; jmp back 9 bytes to the mov. */
const X86_64_PAUSE_LOOP = [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7];

/** The pause program as a static ELF executable for `arch` (Docker's `Architecture`), or undefined when not built. */
export function pauseBinary(arch: string): Buffer | undefined {
  if (arch !== "x86_64" && arch !== "amd64") return undefined;
  const codeOffset = ELF_HEADER_SIZE + PROGRAM_HEADER_SIZE;
  const size = codeOffset + X86_64_PAUSE_LOOP.length;
  const elf = Buffer.alloc(size);
  // e_ident: magic, 64-bit, little-endian, version 1, System V ABI.
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  elf.writeUInt16LE(2, 16); // e_type: executable
  elf.writeUInt16LE(0x3e, 18); // e_machine: x86-64
  elf.writeUInt32LE(1, 20); // e_version
  elf.writeBigUInt64LE(LOAD_ADDRESS + BigInt(codeOffset), 24); // e_entry
  elf.writeBigUInt64LE(BigInt(ELF_HEADER_SIZE), 32); // e_phoff
  elf.writeBigUInt64LE(0n, 40); // e_shoff: no sections
  elf.writeUInt32LE(0, 48); // e_flags
  elf.writeUInt16LE(ELF_HEADER_SIZE, 52); // e_ehsize
  elf.writeUInt16LE(PROGRAM_HEADER_SIZE, 54); // e_phentsize
  elf.writeUInt16LE(1, 56); // e_phnum
  // One PT_LOAD segment, read + execute, mapping the whole file at LOAD_ADDRESS.
  const ph = ELF_HEADER_SIZE;
  elf.writeUInt32LE(1, ph); // p_type: PT_LOAD
  elf.writeUInt32LE(5, ph + 4); // p_flags: R + X
  elf.writeBigUInt64LE(0n, ph + 8); // p_offset
  elf.writeBigUInt64LE(LOAD_ADDRESS, ph + 16); // p_vaddr
  elf.writeBigUInt64LE(LOAD_ADDRESS, ph + 24); // p_paddr
  elf.writeBigUInt64LE(BigInt(size), ph + 32); // p_filesz
  elf.writeBigUInt64LE(BigInt(size), ph + 40); // p_memsz
  elf.writeBigUInt64LE(0x1000n, ph + 48); // p_align
  elf.set(X86_64_PAUSE_LOOP, codeOffset);
  return elf;
}

/** The image's tag: named by the binary's hash, so a changed binary is a new image and an old one is never reused. */
export function pauseImageTag(binary: Buffer): string {
  return `podnet-pause:${createHash("sha256").update(binary).digest("hex").slice(0, 12)}`;
}

/** A tar stream of one file, {@link PAUSE_PATH}, mode 0755, owned by root. */
function pauseTar(binary: Buffer): NodeJS.ReadableStream {
  const tar = pack();
  tar.entry({ name: PAUSE_PATH.slice(1), mode: 0o755, uid: 0, gid: 0, mtime: new Date(0) }, binary);
  tar.finalize();
  return tar as unknown as NodeJS.ReadableStream;
}

/**
 * The tag of the pause image on this engine, imported when missing; undefined when there is no pause program for the
 * engine's architecture.
 */
export async function ensurePauseImage(docker: Dockerode): Promise<string | undefined> {
  const { Architecture: arch } = (await docker.info()) as { Architecture: string };
  const binary = pauseBinary(arch);
  if (binary === undefined) return undefined;
  const tag = pauseImageTag(binary);
  const present = await docker
    .getImage(tag)
    .inspect()
    .then(
      () => true,
      (error: { statusCode?: number }) => {
        if (error.statusCode === 404) return false;
        throw error;
      },
    );
  if (present) return tag;
  const [repo, version] = tag.split(":") as [string, string];
  const output = await docker.importImage(pauseTar(binary), { repo, tag: version });
  // The import's answer is a stream of JSON progress lines; an error arrives in it, not as a status code.
  for await (const message of jsonLines(output as AsyncIterable<unknown>)) {
    const error = message.errorDetail?.message ?? message.error;
    if (error !== undefined) throw new Error(`importing the pause image ${tag}: ${error}`);
  }
  return tag;
}
