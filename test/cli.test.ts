/**
 * The `podnet` CLI end to end, run the way a new user runs it: `node sdk/bin/podnet.mjs ...` as a child process with
 * a fresh HOME and working directory, configured by environment variables only. Against real parts: anvil with the
 * real contracts, one provider worker on the real Docker Engine, the real Ponder indexer (PGlite), an image built
 * FROM scratch. The publisher's key goes in through `podnet key import` on stdin and is then read from the keystore;
 * no output of the whole run may contain it.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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
  type LocalChain,
  leaseContainers,
  localDocker,
  mint,
  podnetBin,
  type RunningProvider,
  runNodeScript,
  type ScriptRun,
  TOKEN,
  tokenBalance,
  waitFor,
  waitForSearchable,
} from "@podnet/devnet";
import { manifestResources, parsePodSpec, pricePerSecond } from "@podnet/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docker = localDocker();
const IMAGE_TAG = "podnet-test/cli:1";
const IMAGE_TAG_V2 = "podnet-test/cli:2";
const PAGE = "hello cli";
const PAGE_V2 = "hello cli v2";
const PASSWORD = "correct horse battery staple";
// The worker's default pricing (docs/worker.md), which the provider below registers.
const PRICING = { perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 0n };

const publisher = devAccount(12);

let dir: string;
let home: string;
let work: string;
let devnet: Devnet;
let chain: LocalChain;
let provider: RunningProvider;
let indexer: Indexer;
let env: Record<string, string>;
/** Every byte the CLI printed, checked for the key at the end. */
const transcript: string[] = [];

/** Runs `podnet <args>` in the user's working directory with the environment only. */
async function podnet(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<ScriptRun> {
  const run = await runNodeScript(podnetBin, args, { cwd: work, env: { ...env, ...opts.env }, input: opts.input });
  transcript.push(run.stdout, run.stderr);
  return run;
}

/** `podnet <args> --json` that must succeed; its stdout parsed. */
// biome-ignore lint/suspicious/noExplicitAny: the JSON documents are checked field by field below.
async function podnetJson(args: string[], opts: { input?: string } = {}): Promise<any> {
  const run = await podnet([...args, "--json"], opts);
  if (run.code !== 0) throw new Error(`podnet ${args.join(" ")} exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  return JSON.parse(run.stdout);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-cli-e2e-"));
  home = join(dir, "home");
  work = join(dir, "work");
  mkdirSync(home);
  mkdirSync(work);
  // The devnet is kept as soon as it runs, so afterAll stops it even when an image build failed.
  await Promise.all([
    Devnet.start({ dir }).then((started) => {
      devnet = started;
    }),
    buildTestImage(docker, IMAGE_TAG, { page: PAGE }),
    buildTestImage(docker, IMAGE_TAG_V2, { page: PAGE_V2 }),
  ]);
  chain = devnet.chain;
  [provider, indexer] = await Promise.all([
    devnet.startProvider({ index: 9, attributes: ["region=local"] }),
    devnet.startIndexer({ schema: "cli_e2e" }),
    mint(chain, publisher.account, 1_000_000n * TOKEN),
  ]);
  // The provider is searchable once the indexer has its registration, stake and heartbeat.
  await waitForSearchable(indexer, provider.address);
  env = cliEnv(chain, { home, indexerUrl: indexer.url, extra: { PODNET_KEYSTORE_PASSWORD: PASSWORD } });
}, 240_000);

afterAll(() => devnet?.stop());

/** How many transactions the publisher's account has sent (its nonce), read from the chain. */
function transactionCount() {
  return clients(chain).client.getTransactionCount({ address: publisher.account.address });
}

describe("podnet CLI: a publisher's first pod", () => {
  let leaseId: string;
  let image: string;
  let before: { balance: string; escrow: string };

  it("key import: the key from stdin into an encrypted keystore; key address reads it back", async () => {
    const imported = await podnetJson(["key", "import"], { input: `${publisher.privateKey}\n` });
    expect(imported.address).toBe(publisher.account.address);
    expect(imported.keystore).toBe(join(home, ".podnet", "keystore.json"));
    const keystore = JSON.parse(readFileSync(imported.keystore, "utf8"));
    expect(keystore.version).toBe(3);
    expect(`0x${keystore.address}`).toBe(publisher.account.address.toLowerCase());
    expect((await podnetJson(["key", "address"])).address).toBe(publisher.account.address);
    // Never overwritten.
    const again = await podnet(["key", "import"], { input: `${publisher.privateKey}\n` });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; not overwriting it/);
  });

  it("init writes the commented template, and refuses to overwrite it", async () => {
    const init = await podnet(["init"]);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/^wrote pod\.yaml\n/);
    expect(init.stdout).toContain("podnet deploy pod.yaml");
    expect(readFileSync(join(work, "pod.yaml"), "utf8")).toContain("# A Podnet pod");
    const again = await podnet(["init"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*pod\.yaml: already exists; not overwriting it\n$/);
  });

  it("image add saves the local image through docker, encrypts it, and sets it in pod.yaml keeping the comments", async () => {
    const template = readFileSync(join(work, "pod.yaml"), "utf8");
    const added = await podnetJson(["image", "add", IMAGE_TAG, "--set", "pod.yaml", "--container", "web"]);
    expect(added.image).toMatch(/^blob:bafkrei[a-z2-7]+$/);
    expect(added.set).toEqual({ file: "pod.yaml", container: "web" });
    image = added.image;
    devnet.untagBlobOnStop(added.cid);
    const edited = readFileSync(join(work, "pod.yaml"), "utf8");
    const changed = template.split("\n").filter((line, i) => edited.split("\n")[i] !== line);
    expect(changed).toEqual([expect.stringMatching(/^ {4}image: registry\.example\/web@sha256:0{64}$/)]);
    expect(parsePodSpec(edited).containers[0]?.image).toBe(image);
  });

  it("providers --spec lists the provider with its price for the pod", async () => {
    const manifest = parsePodSpec(readFileSync(join(work, "pod.yaml"), "utf8"));
    const found = await podnetJson(["providers", "--spec", "pod.yaml"]);
    expect(found.resources).toEqual(manifestResources(manifest));
    const row = found.providers.find((p: { address: string }) => p.address === provider.address);
    expect(row).toMatchObject({
      endpoint: provider.worker.apiUrl,
      pricePerSecond: pricePerSecond(PRICING, manifestResources(manifest)).toString(),
      attributes: ["region=local"],
    });
    const table = await podnet(["providers", "--cpu", "250", "--memory", "128", "--attr", "region=local"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^# +ADDRESS +ENDPOINT +PRICE\/S +UPTIME +FREE STAKE +ATTRIBUTES\n/);
    expect(table.stdout).toContain(provider.address);
    const none = await podnetJson(["providers", "--cpu", "250", "--memory", "128", "--attr", "region=mars"]);
    expect(none.providers).toEqual([]);
  });

  it("quote prints a verified price and the cost for the duration", async () => {
    const quoted = await podnetJson(["quote", "pod.yaml", "--provider", provider.address, "--duration", "30m"]);
    const price = BigInt(quoted.pricePerSecond);
    expect(quoted.provider).toBe(provider.address);
    expect(quoted.publisher).toBe(publisher.account.address);
    expect(quoted.cost).toMatchObject({ seconds: "1800", total: (price * 1800n).toString(), feeBps: 100 });
    expect(quoted.attestation.provider).toBe(provider.address);
    const human = await podnet(["quote", "pod.yaml"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^price +${price} \\(`, "m"));
    expect(human.stdout).toMatch(/^cost 1h +\d+ \(/m);
    expect(human.stdout).toMatch(/^valid until +\d{4}-\d\d-\d\d /m);
  });

  it("deploy: quote, lease (one transaction: a permit), upload, run; prints the lease and the pod's URL", async () => {
    const nonceBefore = await transactionCount();
    const balanceBefore = await tokenBalance(chain, publisher.account.address);
    const run = await podnet(["deploy", "pod.yaml", "--duration", "1h", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const deployed = JSON.parse(run.stdout);
    // The publisher had approved nothing: the lease is one createLeaseWithPermit, exactly the deposit taken.
    expect((await transactionCount()) - nonceBefore).toBe(1);
    expect(deployed.funding).toBe("permit");
    expect(balanceBefore - (await tokenBalance(chain, publisher.account.address))).toBe(BigInt(deployed.deposit));
    expect(run.stderr).toMatch(/^signed a permit for exactly \d+ \(.*\) \(no approval transaction\)$/m);
    leaseId = deployed.leaseId;
    expect(leaseId).toMatch(/^\d+$/);
    expect(deployed.provider).toBe(provider.address);
    expect(BigInt(deployed.deposit)).toBe(BigInt(deployed.pricePerSecond) * 3600n);
    expect(deployed.phase).toBe("running");
    expect(deployed.uploads).toBe(1);
    // The first HTTP expose at l<lease>.<domain>, and every expose at l<lease>-<container>-<port>.<domain>.
    expect(deployed.urls).toEqual([
      expect.stringMatching(new RegExp(`^http://l${leaseId}\\.pods\\.localhost:\\d+/$`)),
      expect.stringMatching(new RegExp(`^http://l${leaseId}-web-8080\\.pods\\.localhost:\\d+/$`)),
    ]);
    expect(run.stderr).toContain(`quote ✓ ${deployed.pricePerSecond} base units/s from ${provider.address}`);
    expect(run.stderr).toMatch(new RegExp(`^lease ${leaseId} created \\(tx 0x[0-9a-f]{64}\\)`, "m"));
    expect(run.stderr).toContain("blobs: 1 uploaded, 0 already there");
    expect(run.stderr).toContain(`pod running: ${deployed.urls[0]}`);

    const host = new URL(deployed.urls[0]).host;
    const page = await ingress(provider.worker.ingressPort, host);
    expect(page).toEqual({ status: 200, body: PAGE });
  });

  it("status shows the lease on chain and the running pod", async () => {
    const status = await podnetJson(["status", leaseId]);
    expect(status.lease).toMatchObject({ leaseId, status: "active", provider: provider.address });
    expect(status.lease.runsOutAt).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect(status.pod.phase).toBe("running");
    expect(status.pod.containers).toEqual([expect.objectContaining({ name: "web", state: "running", replica: 0 })]);
    expect(status.pod.urls[0]).toContain(`l${leaseId}.pods.localhost`);
    const human = await podnet(["status", leaseId]);
    expect(human.stdout).toMatch(new RegExp(`^lease +${leaseId} active$`, "m"));
    expect(human.stdout).toMatch(/^CONTAINER +REPLICA +STATE/m);
  });

  it("logs --tail prints the container's log", async () => {
    const logs = await podnet(["logs", leaseId, "--tail", "5"]);
    expect(logs.code, logs.stderr).toBe(0);
    const json = await podnet(["logs", leaseId, "--tail", "5", "--json"]);
    expect(json.code).toBe(0);
    for (const line of json.stdout.split("\n").filter(Boolean)) {
      expect(JSON.parse(line)).toEqual({ stream: expect.stringMatching(/^std(out|err)$/), text: expect.any(String) });
    }
  });

  it("update: a new image into pod.yaml, the lease's spec changed on chain, the new pod serves", async () => {
    const added = await podnetJson(["image", "add", IMAGE_TAG_V2, "--set", "pod.yaml"]);
    devnet.untagBlobOnStop(added.cid);
    expect(added.set).toEqual({ file: "pod.yaml", container: "web" }); // the only container
    const run = await podnet(["update", leaseId, "pod.yaml", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const updated = JSON.parse(run.stdout);
    expect(updated).toMatchObject({ leaseId, phase: "running", uploads: 1, txHash: expect.stringMatching(/^0x/) });
    expect(run.stderr).toMatch(/^spec 0x[0-9a-f]{64} set on chain \(tx 0x[0-9a-f]{64}\)$/m);
    const page = await ingress(provider.worker.ingressPort, new URL(updated.urls[0]).host);
    expect(page).toEqual({ status: 200, body: PAGE_V2 });
  });

  it("top-up --duration adds that long at the lease's price, in one transaction", async () => {
    const lease = (await podnetJson(["status", leaseId])).lease;
    const nonceBefore = await transactionCount();
    const balanceBefore = await tokenBalance(chain, publisher.account.address);
    const topped = await podnetJson(["top-up", leaseId, "--duration", "10m"]);
    expect((await transactionCount()) - nonceBefore).toBe(1);
    expect(topped.funding).toBe("permit");
    expect(balanceBefore - (await tokenBalance(chain, publisher.account.address))).toBe(BigInt(topped.amount));
    expect(topped.amount).toBe((BigInt(lease.pricePerSecond) * 600n).toString());
    expect(BigInt(topped.balance)).toBeGreaterThan(BigInt(lease.balance));
    expect(topped.runsOutAt).toBe(lease.runsOutAt + 600);
  });

  it("balance shows the wallet, the escrow of the active lease and the allowance, exactly", async () => {
    const balance = await podnetJson(["balance"]);
    expect(balance.address).toBe(publisher.account.address);
    expect(balance.token).toMatchObject({ symbol: "tPOD", decimals: 18 });
    expect(BigInt(balance.balance)).toBe(await tokenBalance(chain, publisher.account.address));
    expect(balance.activeLeases).toEqual([leaseId]);
    expect(BigInt(balance.escrow)).toBeGreaterThan(0n);
    expect(balance.formatted.balance).toMatch(/^\d+(\.\d+)?$/);
    before = balance;
    const human = await podnet(["balance"]);
    expect(human.stdout).toMatch(/^wallet +\d+ base units = +[\d.]+ +tPOD$/m);
  });

  it("close refunds the unspent escrow to the wallet, exactly, and the pod goes away", async () => {
    const closed = await podnetJson(["close", leaseId]);
    const refund = BigInt(closed.refund);
    expect(refund).toBeGreaterThan(0n);
    expect(BigInt(closed.owed)).toBeGreaterThan(0n);
    const after = await podnetJson(["balance"]);
    expect(BigInt(after.balance)).toBe(BigInt(before.balance) + refund);
    expect(after.activeLeases).toEqual([]);
    expect(after.escrow).toBe("0");
    await waitFor("the lease's containers to be removed", async () =>
      (await leaseContainers(docker, provider.address, leaseId)).length === 0 ? true : undefined,
    );
    const status = await podnetJson(["status", leaseId]);
    expect(status.lease.status).toBe("closed");
  });

  it("deploy --market: an order, the provider's bid, accepted; the image is already at the provider", async () => {
    const nonceBefore = await transactionCount();
    const run = await podnet(["deploy", "pod.yaml", "--market", "--bid-window", "4s", "--duration", "15m"]);
    expect(run.code, run.stderr).toBe(0);
    // createOrderWithPermit, then acceptBid: no approval transaction.
    expect((await transactionCount()) - nonceBefore).toBe(2);
    expect(run.stderr).toMatch(/^signed a permit for exactly \d+ /m);
    // Human output: the lease, the URL and what to run next.
    const marketLease = /^lease +(\d+)$/m.exec(run.stdout)?.[1] as string;
    expect(marketLease).toMatch(/^\d+$/);
    expect(run.stdout).toMatch(/^order +\d+$/m);
    expect(run.stdout).toMatch(new RegExp(`^provider +${provider.address}$`, "m"));
    const url = new RegExp(`^url +(http://l${marketLease}\\.pods\\.localhost:\\d+/)$`, "m").exec(run.stdout)?.[1];
    expect(url).toBeDefined();
    expect(run.stdout).toContain(`next:\n  podnet status ${marketLease}\n`);
    expect(run.stderr).toMatch(/^max price \d+ base units\/s \(the highest list price of 1 matching providers\)$/m);
    expect(run.stderr).toMatch(new RegExp(`^bid from ${provider.address}: \\d+ base units/s$`, "m"));
    expect(run.stderr).toMatch(
      new RegExp(`^accepted ${provider.address} at \\d+ base units/s → lease ${marketLease} `, "m"),
    );
    expect(run.stderr).toContain("blobs: 0 uploaded, 1 already there");
    const page = await ingress(provider.worker.ingressPort, new URL(url as string).host);
    expect(page).toEqual({ status: 200, body: PAGE_V2 });
    const closed = await podnet(["close", marketLease]);
    expect(closed.stdout).toMatch(new RegExp(`^lease +${marketLease} closed$`, "m"));
    expect(closed.stdout).toMatch(/^refund +\d+ \([\d.]+ tPOD\) back in your wallet$/m);
  });
});

describe("podnet CLI: errors", () => {
  it("a bad pod.yaml: exit 1 and every problem as file:line:column, nothing sent", async () => {
    mkdirSync(join(work, "bad"), { recursive: true });
    writeFileSync(
      join(work, "bad", "pod.yaml"),
      "version: 1\ncontainers:\n  - name: web\n    image: nginx:latest\n    privileged: true\n    resources:\n      cpuMillis: 0\n      memoryMiB: 64\n",
    );
    const run = await podnet(["deploy", "bad/pod.yaml"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: bad\/pod\.yaml:4:5 containers\[0\]\.image: /);
    expect(run.stderr).toMatch(/^ {2}bad\/pod\.yaml:5:5 containers\[0\]: Unrecognized key: "privileged"$/m);
    expect(run.stderr).toMatch(/^ {2}bad\/pod\.yaml:7:7 containers\[0\]\.resources\.cpuMillis: /m);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const json = await podnet(["quote", "bad/pod.yaml", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error.message).toMatch(/bad\/pod\.yaml:4:5 /);
  });

  it("usage errors exit 2 and name the flag; runtime errors name the setting", async () => {
    const unknown = await podnet(["deploy", "pod.yaml", "--durration", "1h"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--durration: unknown option (did you mean --duration?)");
    const duration = await podnet(["top-up", "1", "--duration", "soon"]);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain('--duration: "soon" is not a duration');
    const rpc = await podnet(["balance"], { env: { PODNET_RPC_URL: "http://127.0.0.1:9" } });
    expect(rpc.code).toBe(1);
    expect(rpc.stderr).toMatch(/^error: PODNET_RPC_URL: no chain answers at http:\/\/127\.0\.0\.1:9 /);
    const password = await podnet(["balance"], { env: { PODNET_KEYSTORE_PASSWORD: "wrong" } });
    expect(password.code).toBe(1);
    expect(password.stderr).toBe("error: keystore: wrong password (MAC mismatch)\n");
  });

  it("secret add encrypts stdin and prints only the content id", async () => {
    const value = `cli-secret-${Math.random().toString(36).slice(2)}`;
    const secret = await podnetJson(["secret", "add", "db-password"], { input: value });
    expect(secret.blob).toMatch(/^bafkrei[a-z2-7]+$/);
    expect(transcript.join("")).not.toContain(value);
  });

  it("the private key never appeared in any output of the run", () => {
    const all = transcript.join("\n").toLowerCase();
    expect(all.length).toBeGreaterThan(1000);
    expect(all).not.toContain(publisher.privateKey.slice(2).toLowerCase());
  });
});
