/**
 * Handing an app to the autoscaler network on a real anvil with the real contracts: two nodes' handover routes
 * (autoscaler/src/network/handover) on real HTTP servers, each with its own X25519 key, and the owner's SDK
 * `handAppToNetwork`. Each node ends with the layout its runner reads (pod.yaml, app.yaml, blobs/ with the keys
 * wrapped to that node only, bundle.json last), and every hostile request is refused with a 4xx naming the field,
 * leaving the node's disk byte for byte as it was.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import {
  cliEnv,
  clients,
  devAccount,
  filesUnder,
  type LocalChain,
  mint,
  podnetBin,
  publisherClient,
  runNodeScript,
  startLocalChain,
  walletClient,
} from "@podnet/devnet";
import {
  appConfigHash,
  appConfigLimits,
  appVaultAbi,
  appYamlTemplate,
  autoscalerNetworkAbi,
  BlobCache,
  decryptBytes,
  deriveEncryptionKeyPair,
  deriveSelfEncryptionKey,
  handAppToNetwork,
  manifestHash,
  type NetworkNode,
  type PodnetClientWithActions,
  parseAppYaml,
  parsePodSpec,
  sealBlobKeys,
  signHandoverBundle,
  signRequest,
} from "@podnet/sdk";
import { servingNode } from "@podnet/sdk/protocol";
import { type Address, erc20Abi, getAddress, keccak256, stringToBytes } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appLayout } from "../autoscaler/src/network/handover/app-layout.js";
import { handoverRoutes } from "../autoscaler/src/network/handover/routes.js";

const owner = devAccount(5);
const stranger = devAccount(7);
const secrets = ["postgres://app:correct-horse@db/app", "api-token-0123456789"];
const MAX_BLOB = 4096;

interface Node {
  address: Address;
  key: ReturnType<typeof deriveEncryptionKeyPair>;
  dataDir: string;
  url: string;
  close: () => void;
  profile: NetworkNode;
}

let dir: string;
let chain: LocalChain;
let ownerClient: PodnetClientWithActions;
let vault: Address;
let cids: string[];
let podYaml: string;
let appYaml: string;
let nodeA: Node;
let nodeB: Node;

async function startNode(index: number): Promise<Node> {
  const account = devAccount(index);
  const key = deriveEncryptionKeyPair(account.privateKey);
  const dataDir = join(dir, `node-${index}`);
  mkdirSync(dataDir);
  const app = handoverRoutes({
    node: account.account.address,
    encryptionKey: key,
    publicClient: clients(chain).client,
    dataDir,
    deployment: chain.deployment,
    maxBlobBytes: MAX_BLOB,
  });
  let server: ReturnType<typeof serve> | undefined;
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => resolve(info.port));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    address: account.account.address,
    key,
    dataDir,
    url,
    close: () => server?.close(),
    profile: { address: account.account.address, endpoint: url, encryptionKey: key.publicKeyHex },
  };
}

/** Every file under a node's data dir with the hash of its bytes: what "nothing written" is compared with. */
function snapshot(node: Node): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [path, bytes] of filesUnder(node.dataDir)) files[path] = createHash("sha256").update(bytes).digest("hex");
  return files;
}

/** Sends a request that must be refused: the status, the message (naming the field) and an untouched disk. */
async function refused(node: Node, send: () => Promise<Response>, status: number, message: RegExp) {
  const before = snapshot(node);
  const response = await send();
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(JSON.parse(text).error.message).toMatch(message);
  expect(snapshot(node)).toEqual(before);
}

const putBundle = (node: Node, body: unknown, path = `/v1/apps/${vault}/bundle`) =>
  fetch(`${node.url}${path}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

async function putBlob(node: Node, cid: string, bytes: Uint8Array, signer = owner.account, vaultPath = vault) {
  const path = `/v1/apps/${vaultPath}/blobs/${cid}`;
  const headers = await signRequest(signer, 31337, { provider: node.address, method: "PUT", path });
  return fetch(`${node.url}${path}`, { method: "PUT", headers, body: bytes });
}

/** A bundle for `node` with the owner's keys sealed to `sealTo` (the node's own by default). */
async function bundleFor(
  node: Node,
  opts: { signer?: typeof owner.account; sealTo?: Node; issuedAt?: number; podYaml?: string } = {},
) {
  const self = await deriveSelfEncryptionKey((message) => owner.account.signMessage({ message }));
  const blobs = sealBlobKeys({
    from: ownerClient.blobCache,
    self,
    recipient: (opts.sealTo ?? node).key.publicKey,
    cids,
  });
  return signHandoverBundle(
    opts.signer ?? owner.account,
    31337,
    { vault, node: node.address, podYaml: opts.podYaml ?? podYaml, appYaml, blobs },
    opts.issuedAt ?? Math.floor(Date.now() / 1000),
  );
}

/** Network mode on for `app` (owner only), as `podnet app create --network` does. */
async function setTerms(app: Address) {
  const hash = await walletClient(chain, owner.account).writeContract({
    address: app,
    abi: appVaultAbi,
    functionName: "setNetworkTerms",
    args: [{ enabled: true, feePerReplacement: 0n, maxFeesPerDay: 0n }],
  });
  expect((await clients(chain).client.waitForTransactionReceipt({ hash })).status).toBe("success");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-network-handover-"));
  chain = await startLocalChain(join(dir, "chain"));
  ownerClient = publisherClient(chain, owner.account, { blobCacheDir: join(dir, "owner-blobs") });
  cids = [];
  for (const value of secrets) cids.push((await ownerClient.prepareSecret({ value })).cid);
  podYaml = [
    "version: 1",
    "containers:",
    "  - name: web",
    `    image: podnet-test/web@sha256:${"ab".repeat(32)}`,
    "    resources: { cpuMillis: 100, memoryMiB: 64 }",
    "    mounts: [{ volume: creds, path: /run/secrets, readOnly: true }]",
    "volumes:",
    "  - type: secret",
    "    name: creds",
    `    files: [{ path: db-url, blob: ${cids[0]} }, { path: token, blob: ${cids[1]} }]`,
    "",
  ].join("\n");
  appYaml = appYamlTemplate();
  mkdirSync(join(dir, "app"));
  writeFileSync(join(dir, "app", "pod.yaml"), podYaml);
  writeFileSync(join(dir, "app", "app.yaml"), appYaml);
  const config = parseAppYaml(appYaml);
  ({ vault } = await ownerClient.createApp({
    salt: keccak256(stringToBytes("handover")),
    specHash: manifestHash(parsePodSpec(podYaml)),
    configHash: appConfigHash(config),
    limits: appConfigLimits(config),
  }));
  await setTerms(vault);
  nodeA = await startNode(8);
  nodeB = await startNode(9);
}, 180_000);

afterAll(async () => {
  nodeA?.close();
  nodeB?.close();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("handing an app to the network", () => {
  it("refuses a bundle whose blobs were not uploaded, writing nothing", async () => {
    await refused(
      nodeA,
      async () => putBundle(nodeA, await bundleFor(nodeA)),
      409,
      /^blobs\[0\]\.cid: .* was not uploaded/,
    );
    expect(existsSync(appLayout(nodeA.dataDir, vault).bundle)).toBe(false);
  });

  it("hands the app to both nodes: each layout's keys open with that node's key only", async () => {
    const results = await handAppToNetwork(ownerClient, {
      vault,
      dir: join(dir, "app"),
      nodes: [nodeA.profile, nodeB.profile],
    });
    expect(results).toEqual([
      { node: nodeA.address, endpoint: nodeA.url, ok: true, uploaded: cids, created: true },
      { node: nodeB.address, endpoint: nodeB.url, ok: true, uploaded: cids, created: true },
    ]);
    for (const [node, other] of [
      [nodeA, nodeB],
      [nodeB, nodeA],
    ] as const) {
      const layout = appLayout(node.dataDir, vault);
      expect(readFileSync(layout.podYaml, "utf8")).toBe(podYaml);
      expect(readFileSync(layout.appYaml, "utf8")).toBe(appYaml);
      const record = JSON.parse(readFileSync(layout.bundle, "utf8"));
      expect(record).toMatchObject({
        vault: getAddress(vault),
        chainId: 31337,
        node: node.address,
        owner: owner.account.address,
        specHash: manifestHash(parsePodSpec(podYaml)),
        configHash: appConfigHash(parseAppYaml(appYaml)),
      });
      const served = await fetch(`${node.url}/v1/apps/${vault}/bundle`);
      expect(await served.json()).toEqual(record);
      const cache = new BlobCache(layout.blobs);
      for (const [i, cid] of cids.entries()) {
        const contentKey = cache.contentKey(cid, node.key);
        expect(new TextDecoder().decode(decryptBytes(readFileSync(cache.path(cid)), contentKey))).toBe(secrets[i]);
        expect(() => cache.contentKey(cid, other.key)).toThrow(/sealed to/);
        // Nothing in the clear on the node's disk.
        for (const [path] of Object.entries(snapshot(node))) {
          const bytes = readFileSync(path);
          expect(bytes.includes(Buffer.from(contentKey))).toBe(false);
          expect(bytes.includes(Buffer.from(contentKey).toString("base64url"))).toBe(false);
          expect(bytes.includes(secrets[i] as string)).toBe(false);
        }
      }
    }
    // Sent again: nothing uploaded twice, and a newer bundle replaces the older.
    const again = await handAppToNetwork(ownerClient, { vault, dir: join(dir, "app"), nodes: [nodeA.profile] });
    expect(again).toMatchObject([{ ok: true, uploaded: [] }]);
  }, 60_000);

  it("one node that fails does not stop the others; the result says which", async () => {
    const dead = {
      address: stranger.account.address,
      endpoint: "http://127.0.0.1:9",
      encryptionKey: nodeB.key.publicKeyHex,
    };
    const results = await handAppToNetwork(ownerClient, { vault, dir: join(dir, "app"), nodes: [dead, nodeB.profile] });
    expect(results[0]).toMatchObject({ node: dead.address, ok: false, error: expect.stringMatching(/unreachable/) });
    expect(results[1]).toMatchObject({ node: nodeB.address, ok: true });
  }, 60_000);

  it("refuses a bundle signed by someone else than the vault's owner", async () => {
    await refused(
      nodeA,
      async () => putBundle(nodeA, await bundleFor(nodeA, { signer: stranger.account })),
      403,
      /^signature: signed by 0x[0-9a-fA-F]{40}, not by the vault's owner/,
    );
  });

  it("refuses a replayed older bundle", async () => {
    const held = JSON.parse(readFileSync(appLayout(nodeA.dataDir, vault).bundle, "utf8"));
    await refused(
      nodeA,
      async () => putBundle(nodeA, await bundleFor(nodeA, { issuedAt: held.issuedAt - 1 })),
      409,
      /^issuedAt: \d+ is older than the bundle this node holds/,
    );
    await refused(
      nodeA,
      async () => putBundle(nodeA, await bundleFor(nodeA, { issuedAt: Math.floor(Date.now() / 1000) + 3600 })),
      400,
      /^issuedAt: \d+ is more than 300s ahead/,
    );
  });

  it("refuses a pod.yaml that does not hash to the vault's specHash", async () => {
    const other = podYaml.replace("cpuMillis: 100", "cpuMillis: 200");
    await refused(
      nodeA,
      async () => putBundle(nodeA, await bundleFor(nodeA, { podYaml: other })),
      409,
      /^podYaml: hashes to 0x[0-9a-f]{64}, the vault's specHash is 0x/,
    );
  });

  it("refuses keys sealed to another node, and a bundle signed for another node", async () => {
    await refused(
      nodeA,
      async () => putBundle(nodeA, await bundleFor(nodeA, { sealTo: nodeB })),
      400,
      /^blobs\[0\]\.key: does not open with this node's key 0x[0-9a-f]{64} \(sealed to another key/,
    );
    await refused(
      nodeA,
      async () => putBundle(nodeA, await bundleFor(nodeB)),
      400,
      /^node: the bundle was signed for 0x[0-9a-fA-F]{40}, this node is/,
    );
    // The field says node A, the signature was made for node B: the signer does not recover to the owner.
    const forB = await bundleFor(nodeB, { sealTo: nodeA });
    await refused(nodeA, () => putBundle(nodeA, { ...forB, node: nodeA.address }), 403, /^signature: signed by/);
  });

  it("refuses ciphertext that does not match its content id, and oversize blobs, keeping nothing", async () => {
    const fresh = (await ownerClient.prepareSecret({ value: "not yet on the node" })).cid;
    await refused(
      nodeA,
      () => putBlob(nodeA, fresh, new TextEncoder().encode("other bytes")),
      422,
      /^body: the bytes hash to \S+, not /,
    );
    expect(existsSync(join(appLayout(nodeA.dataDir, vault).blobs, fresh))).toBe(false);
    await refused(
      nodeA,
      () => putBlob(nodeA, fresh, new Uint8Array(MAX_BLOB + 1)),
      413,
      /^body: \d+ bytes is over this node's blob limit of 4096/,
    );
    // A chunked body declares no length: cut off as it passes the limit.
    const path = `/v1/apps/${vault}/blobs/${fresh}`;
    const chunked = async () => {
      const headers = await signRequest(owner.account, 31337, { provider: nodeA.address, method: "PUT", path });
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 3; i++) controller.enqueue(new Uint8Array(2048));
          controller.close();
        },
      });
      return fetch(`${nodeA.url}${path}`, { method: "PUT", headers, body, duplex: "half" } as RequestInit);
    };
    await refused(nodeA, chunked, 413, /^body: over this node's blob limit of 4096 bytes/);
    // Only the owner uploads.
    const bytes = readFileSync(ownerClient.blobCache.path(fresh));
    await refused(
      nodeA,
      () => putBlob(nodeA, fresh, bytes, stranger.account),
      403,
      /^x-podnet-signer: 0x[0-9a-fA-F]{40} is not the owner of/,
    );
  });

  it("refuses a bundle when a stored ciphertext was altered on the node's disk since its upload", async () => {
    const path = join(appLayout(nodeB.dataDir, vault).blobs, cids[0] as string);
    const good = readFileSync(path);
    const altered = Buffer.from(good);
    altered.writeUInt8(altered.readUInt8(altered.length - 1) ^ 1, altered.length - 1);
    writeFileSync(path, altered);
    try {
      await refused(
        nodeB,
        async () => putBundle(nodeB, await bundleFor(nodeB)),
        409,
        /^blobs\[0\]\.cid: the stored ciphertext does not hash to \S+; upload it again/,
      );
    } finally {
      // The owner's next hand-over finds it missing (HEAD) and uploads it again.
      const healed = await handAppToNetwork(ownerClient, { vault, dir: join(dir, "app"), nodes: [nodeB.profile] });
      expect(healed).toMatchObject([{ ok: true, uploaded: [cids[0]] }]);
      expect(readFileSync(path).equals(good)).toBe(true);
    }
  });

  it("refuses path traversal in :vault and :cid", async () => {
    await refused(
      nodeA,
      () => putBundle(nodeA, {}, "/v1/apps/..%2F..%2Fetc/bundle"),
      400,
      /^vault: "\.\.\/\.\.\/etc" is not a 0x address/,
    );
    await refused(
      nodeA,
      () => putBlob(nodeA, "..%2F..%2Fbundle.json", new Uint8Array(1)),
      400,
      /^cid: "\.\.\/\.\.\/bundle\.json" is not a content id/,
    );
    await refused(
      nodeA,
      () =>
        fetch(`${nodeA.url}/v1/apps/${vault}/blobs/..%2Findex.json`, { method: "HEAD" }).then(
          (r) => new Response(JSON.stringify({ error: { message: `cid: status ${r.status}` } }), { status: r.status }),
        ),
      400,
      /^cid: status 400/,
    );
  });

  it("refuses an app of the factory whose owner did not opt it into network mode", async () => {
    const config = parseAppYaml(appYaml);
    const { vault: plain } = await ownerClient.createApp({
      salt: keccak256(stringToBytes("not in network mode")),
      specHash: manifestHash(parsePodSpec(podYaml)),
      configHash: appConfigHash(config),
      limits: appConfigLimits(config),
    });
    const bundle = await bundleFor(nodeA);
    const forPlain = await signHandoverBundle(
      owner.account,
      31337,
      { vault: plain, node: nodeA.address, podYaml, appYaml, blobs: bundle.blobs },
      bundle.issuedAt,
    );
    await refused(
      nodeA,
      () => putBundle(nodeA, forPlain, `/v1/apps/${plain}/bundle`),
      409,
      /^vault: 0x[0-9a-fA-F]{40} is not in network mode/,
    );
    const bytes = readFileSync(ownerClient.blobCache.path(cids[0] as string));
    await refused(
      nodeA,
      () => putBlob(nodeA, cids[0] as string, bytes, owner.account, plain),
      409,
      /^vault: .* is not in network mode/,
    );
  }, 60_000);

  it("refuses a vault the deployment's factory did not create", async () => {
    const notAnApp = chain.deployment.contracts.podnetMarket.address;
    const bundle = await bundleFor(nodeA);
    await refused(
      nodeA,
      () => putBundle(nodeA, bundle, `/v1/apps/${notAnApp}/bundle`),
      404,
      /^vault: 0x[0-9a-fA-F]{40} was not created by this deployment's app factory/,
    );
    await refused(
      nodeA,
      () => putBlob(nodeA, cids[0] as string, new Uint8Array(1), owner.account, notAnApp),
      404,
      /^vault: .* was not created by/,
    );
  });
});

describe("podnet app create --network, hand-over and status, on nodes registered on chain", () => {
  let env: Record<string, string>;
  let work: string;

  function podnet(args: string[]) {
    return runNodeScript(podnetBin, args, { cwd: work, env });
  }

  /** Registers a node on the AutoscalerNetwork with its test server's URL and X25519 key, staking the minimum. */
  async function register(node: Node, index: number) {
    const { client } = clients(chain);
    const account = devAccount(index).account;
    const network = chain.deployment.contracts.autoscalerNetwork.address;
    const { minStake } = await client.readContract({
      address: network,
      abi: autoscalerNetworkAbi,
      functionName: "params",
    });
    await mint(chain, account, minStake);
    const wallet = walletClient(chain, account);
    const approve = await wallet.writeContract({
      address: chain.deployment.contracts.paymentToken.address,
      abi: erc20Abi,
      functionName: "approve",
      args: [network, minStake],
    });
    await client.waitForTransactionReceipt({ hash: approve });
    const hash = await wallet.writeContract({
      address: network,
      abi: autoscalerNetworkAbi,
      functionName: "register",
      args: [
        {
          endpoint: node.url,
          encryptionKey: node.key.publicKeyHex,
          dnsIpv4: "0x7f000001",
          dnsIpv6: `0x${"00".repeat(16)}`,
        },
        minStake,
      ],
    });
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");
  }

  beforeAll(async () => {
    work = join(dir, "cli");
    mkdirSync(join(work, "home"), { recursive: true });
    mkdirSync(join(work, "net-app"));
    writeFileSync(join(work, "net-app", "pod.yaml"), podYaml);
    writeFileSync(join(work, "net-app", "app.yaml"), appYaml);
    env = cliEnv(chain, {
      home: join(work, "home"),
      extra: { PODNET_PUBLISHER_KEY: owner.privateKey, PODNET_BLOB_CACHE: join(dir, "owner-blobs") },
    });
    await register(nodeA, 8);
    await register(nodeB, 9);
  }, 120_000);

  it("refuses bad network flags naming the flag, creating nothing", async () => {
    const { client } = clients(chain);
    const nonce = await client.getTransactionCount({ address: owner.account.address });
    const cases: [string[], RegExp][] = [
      [["--fee-per-replacement", "5"], /--fee-per-replacement: only with --network/],
      [["--max-fees-per-day", "5"], /--max-fees-per-day: only with --network/],
      [["--network", "--fee-per-replacement", "5"], /--max-fees-per-day: required with --fee-per-replacement/],
      [
        ["--network", "--fee-per-replacement", "5", "--max-fees-per-day", "4"],
        /--max-fees-per-day: 4 is below --fee-per-replacement 5/,
      ],
      [
        ["--network", "--fee-per-replacement", "1.5", "--max-fees-per-day", "4"],
        /--fee-per-replacement: "1.5" is not a whole number/,
      ],
      [["--network", "--max-fees-per-day", `${1n << 96n}`], /--max-fees-per-day: \d+ is more than a vault holds/],
    ];
    for (const [flags, message] of cases) {
      const run = await podnet(["app", "create", "--dir", "net-app", ...flags]);
      expect(run.stderr).toMatch(message);
      expect(run.code).toBe(2);
    }
    expect(await client.getTransactionCount({ address: owner.account.address })).toBe(nonce);
  }, 60_000);

  it("create --network sets the terms and hands the app to every live node; status says which serves it", async () => {
    const created = await podnet([
      "app",
      "create",
      "--dir",
      "net-app",
      "--network",
      "--fee-per-replacement",
      "10",
      "--max-fees-per-day",
      "100",
      "--json",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const out = JSON.parse(created.stdout);
    const vault2 = out.vault as Address;
    expect(out.handover).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ node: nodeA.address, ok: true }),
        expect.objectContaining({ node: nodeB.address, ok: true }),
      ]),
    );
    const terms = await clients(chain).client.readContract({
      address: vault2,
      abi: appVaultAbi,
      functionName: "networkTerms",
    });
    expect(terms).toEqual({ enabled: true, feePerReplacement: 10n, maxFeesPerDay: 100n });
    for (const node of [nodeA, nodeB]) {
      const layout = appLayout(node.dataDir, vault2);
      expect(JSON.parse(readFileSync(layout.bundle, "utf8")).vault).toBe(vault2);
      expect(new BlobCache(layout.blobs).contentKey(cids[0] as string, node.key)).toHaveLength(32);
    }

    const expected = servingNode(vault2, [nodeA.address, nodeB.address]);
    const served = expected === nodeA.address ? nodeA : nodeB;
    const status = await podnet(["app", "status", vault2, "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).network).toEqual({
      terms: { enabled: true, feePerReplacement: "10", maxFeesPerDay: "100" },
      servedBy: { node: served.address, endpoint: served.url },
    });
    const human = await podnet(["app", "status", vault2]);
    expect(human.stdout).toContain(`served by ${served.address} (${served.url})`);

    const again = await podnet(["app", "hand-over", vault2, "--dir", "net-app", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).nodes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ node: nodeA.address, ok: true, uploaded: [] }),
        expect.objectContaining({ node: nodeB.address, ok: true, uploaded: [] }),
      ]),
    );
  }, 120_000);
});
