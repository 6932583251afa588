/**
 * The admin API in a real worker process (`podnet-worker run` on a devnet chain, with the Docker Engine it needs to
 * start): it listens on its own loopback port, apart from the provider API; `podnet-worker console` (another process)
 * prints a link the running worker accepts once; the session reads the overview; and neither the worker's log nor its
 * data dir holds the link token, the session id or the CSRF token.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type LocalChain, type RunningProvider, startLocalChain, startProvider, workerBin } from "@podnet/devnet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAdminOrigin } from "../worker/src/admin/origin-file.js";

const dir = mkdtempSync(join(tmpdir(), "podnet-admin-worker-"));
let chain: LocalChain;
let provider: RunningProvider;

beforeAll(async () => {
  chain = await startLocalChain(join(dir, "chain"));
  provider = await startProvider(chain, { index: 62, dataDir: join(dir, "worker") });
}, 240_000);

afterAll(async () => {
  await provider?.worker.stop();
  chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every file under `root`, recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("admin API of a running worker", () => {
  it("signs in with a link from `podnet-worker console`, once, and keeps no secret in its log or data dir", async () => {
    const origin = readAdminOrigin(provider.worker.dataDir) as string;
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(origin).not.toBe(new URL(provider.worker.apiUrl).origin);
    // The provider API does not serve the admin routes.
    expect((await fetch(`${provider.worker.apiUrl}/admin/v1/overview`)).status).toBe(404);

    const { stdout } = await promisify(execFile)(process.execPath, [workerBin, "console"], { env: provider.env });
    const link = /(http:\/\/\S+\/admin\/sign-in)#token=([\w-]+)/.exec(stdout);
    expect(link?.[1]).toBe(`${origin}/admin/sign-in`);
    const token = link?.[2] as string;
    const page = await fetch(link?.[1] as string);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self' 'sha256-/);

    const signIn = (t: string) =>
      fetch(`${origin}/admin/v1/sign-in/link`, {
        method: "POST",
        headers: { origin, "content-type": "application/json" },
        body: JSON.stringify({ token: t }),
      });
    const first = await signIn(token);
    expect(first.status).toBe(200);
    const sessionId = /podnet_admin=([^;]+)/.exec(first.headers.get("set-cookie") ?? "")?.[1] as string;
    const { csrfToken } = (await first.json()) as { csrfToken: string };
    expect((await signIn(token)).status).toBe(401);

    const overview = await fetch(`${origin}/admin/v1/overview`, { headers: { cookie: `podnet_admin=${sessionId}` } });
    expect(overview.status).toBe(200);
    expect(await overview.json()).toMatchObject({
      provider: provider.address,
      registration: { registered: true, status: "active" },
      health: { docker: "ok" },
    });

    const log = readFileSync(provider.worker.logFile, "utf8");
    expect(log).toContain("admin: signed in");
    const files = filesUnder(provider.worker.dataDir).map((f) => readFileSync(f).toString("latin1"));
    for (const secret of [token, sessionId, csrfToken]) {
      expect(log).not.toContain(secret);
      for (const content of files) expect(content).not.toContain(secret);
    }
  });
});
