/**
 * `podnet up` end to end, the way a publisher arriving with a docker-compose app runs it: `node sdk/bin/podnet.mjs up`
 * as a child process in a folder holding a Compose file, against real parts (anvil with the real contracts, one
 * provider worker on the real Docker Engine, the real Ponder indexer to find the provider). The app has two services
 * built from local images, as in the issue: a web server and a redis-like key-value service (busybox nc answering
 * PING), plus a secret read from a file. The web page reaches the other service by its name, so a served answer proves
 * both containers run in one pod on one network, and the secret arrived.
 * Hostile inputs first: a Compose file podnet refuses, an image the local Docker lacks and cannot pull, and a missing
 * secret file each fail with the reason, before any transaction or encryption.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildTestImage,
  cliEnv,
  clients,
  Devnet,
  devAccount,
  type Indexer,
  ingress,
  leaseContainers,
  localDocker,
  mint,
  podnetBin,
  type RunningProvider,
  runNodeScript,
  type ScriptRun,
  TOKEN,
  waitForSearchable,
} from "@podnet/devnet";
import { parsePodSpec } from "@podnet/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docker = localDocker();
const WEB_IMAGE = "podnet-test/up-web:1";
const KV_IMAGE = "podnet-test/up-kv:1";
const SECRET = "s3cret-greeting-for-up";
const publisher = devAccount(97);

let dir: string;
let devnet: Devnet;
let provider: RunningProvider;
let indexer: Indexer;
let env: Record<string, string>;

const COMPOSE = `services:
  web:
    image: ${WEB_IMAGE}
    ports:
      - "8080:8080"
    depends_on: [kv]
    secrets: [greeting]
  kv:
    image: ${KV_IMAGE}
    command: ["nc", "-ll", "-p", "6379", "-e", "/bin/kv"]
secrets:
  greeting:
    file: ./greeting.txt
`;

/** The web's CGI page: asks the kv service, by its name on the pod's network, and shows the secret. */
const PING_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "kv says: $(echo PING | nc -w 3 kv 6379)"
echo "greeting: $(cat /run/secrets/greeting)"
`;

function podnet(cwd: string, args: string[]): Promise<ScriptRun> {
  return runNodeScript(podnetBin, args, { cwd, env });
}

/** A folder holding `compose` (and the secret's file unless told otherwise). */
function app(name: string, compose: string, opts: { secretFile?: boolean } = {}): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  writeFileSync(join(folder, "compose.yaml"), compose);
  if (opts.secretFile !== false) writeFileSync(join(folder, "greeting.txt"), SECRET);
  return folder;
}

const transactionCount = () => clients(devnet.chain).client.getTransactionCount({ address: publisher.account.address });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-up-e2e-"));
  const home = join(dir, "home");
  mkdirSync(home);
  await Promise.all([
    Devnet.start({ dir }).then((started) => {
      devnet = started;
    }),
    buildTestImage(docker, WEB_IMAGE, {
      files: { "/www/index.html": "hello from podnet up", "/www/cgi-bin/ping": PING_CGI },
      executables: ["/www/cgi-bin/ping"],
    }),
    buildTestImage(docker, KV_IMAGE, {
      files: { "/bin/kv": '#!/bin/sh\nread line\necho "+PONG ($line)"\n' },
      executables: ["/bin/kv"],
    }),
  ]);
  [provider, indexer] = await Promise.all([
    devnet.startProvider({ index: 98 }),
    devnet.startIndexer({ schema: "up_e2e" }),
    mint(devnet.chain, publisher.account, 1_000_000n * TOKEN),
  ]);
  await waitForSearchable(indexer, provider.address);
  env = cliEnv(devnet.chain, {
    home,
    indexerUrl: indexer.url,
    extra: { PODNET_PUBLISHER_KEY: publisher.privateKey },
  });
}, 240_000);

afterAll(() => devnet?.stop());

describe("podnet up: refusals change nothing", () => {
  it("refuses a Compose file with what podnet cannot run, naming the line; no transaction, nothing encrypted", async () => {
    const before = await transactionCount();
    const folder = app("privileged", COMPOSE.replace("    depends_on: [kv]\n", "    privileged: true\n"));
    const run = await podnet(folder, ["up"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/compose\.yaml:6:\d+ services\.web\.privileged/);
    expect(run.stderr).not.toContain("encrypting");
    expect(await transactionCount()).toBe(before);
    expect(existsSync(join(folder, ".podnet"))).toBe(false);
  });

  it("refuses an image the local Docker lacks and cannot pull, before leasing", async () => {
    const before = await transactionCount();
    const folder = app("missing-image", COMPOSE.replace(KV_IMAGE, "podnet-test/no-such-image:1"));
    const run = await podnet(folder, ["up"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/podnet-test\/no-such-image:1: not in the local Docker, and docker pull failed/);
    expect(await transactionCount()).toBe(before);
  });

  it("finds no provider for the pod: says so before encrypting anything or leasing", async () => {
    const before = await transactionCount();
    const folder = app("no-provider", COMPOSE);
    const run = await podnet(folder, ["up", "--attr", "region=mars"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no provider can run this pod now \(indexer .*, attributes region=mars\)/);
    expect(run.stderr).not.toContain("encrypting");
    expect(await transactionCount()).toBe(before);
  });

  it("refuses a secret whose file is missing, before encrypting anything", async () => {
    const before = await transactionCount();
    const folder = app("no-secret", COMPOSE, { secretFile: false });
    const run = await podnet(folder, ["up"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/compose\.yaml:7: secret greeting: cannot read \.\/greeting\.txt \(ENOENT\)/);
    expect(run.stderr).not.toContain("encrypting");
    expect(await transactionCount()).toBe(before);
  });
});

describe("podnet up: a two-service Compose app", () => {
  let folder: string;
  let firstImages: Record<string, string>;

  it("encrypts the local images, finds the provider, leases, deploys and prints a URL that serves", async () => {
    folder = app("shop", COMPOSE);
    const run = await podnet(folder, ["up", "--duration", "10m", "--json"]);
    if (run.code !== 0) throw new Error(`podnet up exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
    const result = JSON.parse(run.stdout);
    expect(result.source).toBe("compose.yaml");
    expect(result.podFile).toBe(join(".podnet", "pod.yaml"));
    expect(result.provider).toBe(provider.address);
    expect(result.phase).toBe("running");
    expect(Object.keys(result.images).sort()).toEqual([KV_IMAGE, WEB_IMAGE]);
    firstImages = result.images;
    // Progress on stderr: each image saved and encrypted, each blob uploaded, with sizes and rates.
    expect(run.stderr).toMatch(
      new RegExp(`docker save ${WEB_IMAGE} \\| encrypting: [\\d.]+ (KiB|MiB) in [\\d.]+ s \\(`),
    );
    expect(run.stderr).toMatch(/uploading bafkrei[a-z2-7]+…: [\d.]+ (KiB|MiB) in [\d.]+ s/);
    expect(run.stderr).toContain("secret greeting: encrypted from ./greeting.txt");
    // The secret's value is never printed.
    expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);

    // What was deployed is kept beside the Compose file, valid, with the images as encrypted blobs.
    const written = parsePodSpec(readFileSync(join(folder, ".podnet", "pod.yaml"), "utf8"));
    expect(written.containers.map((c) => [c.name, c.image.startsWith("blob:")])).toEqual([
      ["web", true],
      ["kv", true],
    ]);

    const host = new URL(result.urls[0]).host;
    const page = await ingress(provider.worker.ingressPort, host);
    expect(page).toEqual({ status: 200, body: "hello from podnet up" });
    const containers = await leaseContainers(docker, provider.address, BigInt(result.leaseId));
    expect(containers.map((c) => c.State).sort()).toEqual(["running", "running"]);
    const ping = await ingress(provider.worker.ingressPort, host, "/cgi-bin/ping");
    if (ping.status !== 200) {
      const logs = await Promise.all(
        containers.map(
          async (c) => `${c.Names[0]}:\n${await docker.getContainer(c.Id).logs({ stdout: true, stderr: true })}`,
        ),
      );
      throw new Error(`GET /cgi-bin/ping: ${ping.status} ${ping.body}\n${logs.join("\n")}`);
    }
    expect(ping.body).toContain("kv says: +PONG (PING)");
    expect(ping.body).toContain(`greeting: ${SECRET}`);
  }, 240_000);

  it("a second run with the same local images encrypts and uploads no image: the blobs are reused", async () => {
    const run = await podnet(folder, ["up", "--duration", "10m", "--json"]);
    if (run.code !== 0) throw new Error(`podnet up exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
    const result = JSON.parse(run.stdout);
    expect(result.images).toEqual(firstImages);
    expect(run.stderr.match(/unchanged since the last podnet up/g)).toHaveLength(2);
    expect(run.stderr).not.toContain("encrypting");
    // The provider has both image blobs already; only the secret, encrypted afresh each run, travels.
    for (const image of Object.values(firstImages)) expect(result.blobs[image.slice("blob:".length)]).toBe("present");
    expect(result.uploads).toBe(1);
    const page = await ingress(provider.worker.ingressPort, new URL(result.urls[0]).host);
    expect(page).toEqual({ status: 200, body: "hello from podnet up" });
  }, 120_000);
});
