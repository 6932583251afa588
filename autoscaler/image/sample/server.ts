/**
 * A tiny program to test the image pipeline with (the autoscaler daemon is built the same way): an HTTP server that
 * reports what it sees from inside its container. `--secret <file>` names a file it reads and reports by hash only;
 * `--port` (default 8080) where it listens. `?probe=<url>` makes it fetch that URL and report the answer or the
 * error: what the pod can reach (the app beside it, a chain RPC). A test program only: it fetches any URL it is given.
 * It imports viem to prove npm dependencies are bundled.
 */
import { createHash } from "node:crypto";
import { lookup } from "node:dns/promises";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { keccak256, toHex } from "viem";

const { values } = parseArgs({
  options: { secret: { type: "string" }, port: { type: "string", default: "8080" } },
  strict: true,
});

/** Every path under `/` except the kernel's file systems. */
function listRootfs(dir = "/", out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (path === "/proc" || path === "/sys" || path === "/dev") continue;
    out.push(path);
    if (entry.isDirectory()) listRootfs(path, out);
  }
  return out;
}

function errorCode(action: () => void): string {
  try {
    action();
    return "ok";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

async function report(probe: string | null) {
  let secretSha256: string | undefined;
  const secretRead = errorCode(() => {
    if (values.secret === undefined) throw Object.assign(new Error("no --secret"), { code: "NO_SECRET_ARG" });
    secretSha256 = createHash("sha256").update(readFileSync(values.secret)).digest("hex");
  });
  return {
    node: process.version,
    uid: process.getuid?.(),
    gid: process.getgid?.(),
    secretRead,
    secretSha256,
    rootWrite: errorCode(() => writeFileSync("/probe", "x")),
    tmpWrite: errorCode(() => writeFileSync(`/tmp/probe-${process.pid}`, "x")),
    localhost: (await lookup("localhost", { family: 4 }).catch((e: Error) => ({ address: e.message }))).address,
    keccak: keccak256(toHex("podnet")),
    probe:
      probe === null
        ? undefined
        : await fetch(probe, { signal: AbortSignal.timeout(3000) }).then(
            async (r) => `${r.status} ${(await r.text()).slice(0, 200)}`,
            (e: Error) => `error ${e.message}`,
          ),
    files: listRootfs().sort(),
  };
}

createServer((request, response) => {
  const probe = new URL(request.url ?? "/", "http://sample").searchParams.get("probe");
  report(probe).then(
    (body) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body)),
    (error: Error) => response.writeHead(500).end(error.message),
  );
}).listen(Number(values.port), () => console.log(`sample listening on ${values.port}`));
