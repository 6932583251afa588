/**
 * Nodes of the autoscaler network on a devnet, as an operator runs them: each key funded and staked, registered with
 * `podnet-autoscaler node register` (the endpoint its API will listen on and, for the app zone, a DNS address), then
 * `podnet-autoscaler node run` as a child process. The tests and the network benchmark share it.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { handAppToNetwork, type PodnetClientWithActions } from "@podnet/sdk";
import {
  appConfigHash,
  appConfigLimits,
  manifestHash,
  type PodManifestInput,
  parseAppConfig,
  parseManifest,
} from "@podnet/sdk/protocol";
import { type Address, getAddress, type Hex, keccak256, stringToHex } from "viem";
import type { HDAccount } from "viem/accounts";
import { type AutoscalerNodeProcess, startAutoscalerNodeProcess } from "./autoscaler.js";
import type { Devnet } from "./devnet.js";
import { ensureGas, mint } from "./funds.js";
import { freePort } from "./net.js";
import { autoscalerBin } from "./paths.js";

/** What a node's `GET /v1/node` answers. */
export type NodeView = {
  node: Address;
  live: Address[];
  apps: { vault: Address; servedBy: Address | null; runningHere: boolean; problems: string[] }[];
};

export interface NetworkNode extends AutoscalerNodeProcess {
  address: Address;
  dataDir: string;
  /** The node's app zone nameserver port on 127.0.0.1 (UDP and TCP), when started with `dnsZone`. */
  dnsPort?: number;
}

export interface NetworkNodesOptions {
  keys: readonly { account: HDAccount; privateKey: Hex }[];
  /** Each node's data dir is `<dir>/node-<i>`. */
  dir: string;
  stake: bigint;
  /** More PODNET_AUTOSCALER_* settings of every node (reconcile interval, grace, ...). */
  env?: Record<string, string>;
  /**
   * Serve this app zone on every node: registered with the DNS address 127.0.0.<i+1> (distinct glue per node), a
   * podnet-dns file listening on a free port of 127.0.0.1 (private addresses allowed, as on a devnet).
   */
  dnsZone?: string;
}

/** Registers and starts one node per key; they stop with the devnet. */
export async function startNetworkNodes(devnet: Devnet, o: NetworkNodesOptions): Promise<NetworkNode[]> {
  if (!devnet.indexer) throw new Error("startNetworkNodes: start the devnet's indexer first");
  const nodes: NetworkNode[] = [];
  for (const [i, key] of o.keys.entries()) {
    const dataDir = join(o.dir, `node-${i}`);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "node.key"), `${key.privateKey}\n`, { mode: 0o600 });
    await ensureGas(devnet.chain, key.account.address);
    await mint(devnet.chain, key.account, o.stake);
    const apiPort = await freePort();
    const env: Record<string, string> = {
      PODNET_AUTOSCALER_RPC_URL: devnet.chain.rpcUrl,
      PODNET_AUTOSCALER_DEPLOYMENTS_FILE: devnet.chain.deploymentsFile,
      PODNET_AUTOSCALER_INDEXER_URL: devnet.indexer.url,
      PODNET_AUTOSCALER_NODE_KEY_FILE: join(dataDir, "node.key"),
      PODNET_AUTOSCALER_DATA_DIR: dataDir,
      PODNET_AUTOSCALER_API_PORT: String(apiPort),
      ...o.env,
    };
    const register = ["node", "register", "--endpoint", `http://127.0.0.1:${apiPort}`, "--stake", `${o.stake}`];
    let dnsPort: number | undefined;
    if (o.dnsZone) {
      dnsPort = await freePort();
      // The zone's settings; the node fills in the apps and the nameservers from the chain.
      writeFileSync(
        join(dataDir, "dns.json"),
        JSON.stringify({
          zone: o.dnsZone,
          listen: { host: "127.0.0.1", port: dnsPort },
          nameservers: [{ name: `ns.${o.dnsZone}`, addresses: ["127.0.0.1"] }],
          soa: { rname: `hostmaster@${o.dnsZone}` },
          allowPrivateAddresses: true,
          pollIntervalSec: 0.5,
        }),
      );
      env.PODNET_AUTOSCALER_DNS_CONFIG = join(dataDir, "dns.json");
      register.push("--dns-ipv4", `127.0.0.${i + 1}`);
    }
    // The operator's command: approve + register, the encryption key derived from the node key.
    execFileSync(process.execPath, [autoscalerBin, ...register], { env: { ...process.env, ...env }, stdio: "pipe" });
    const node = await startAutoscalerNodeProcess(env);
    devnet.onStop(`stop autoscaler node ${i}`, () => node.stop());
    nodes.push({ ...node, address: getAddress(key.account.address), dataDir, ...(dnsPort ? { dnsPort } : {}) });
  }
  return nodes;
}

/** The node's `GET /v1/node`, or undefined when it does not answer. */
export async function nodeView(node: Pick<AutoscalerNodeProcess, "apiUrl">): Promise<NodeView | undefined> {
  const response = await fetch(`${node.apiUrl}/v1/node`).catch(() => undefined);
  return response?.ok ? ((await response.json()) as NodeView) : undefined;
}

export interface NetworkAppOptions {
  /** The app folder: pod.yaml and app.yaml are written here (what `podnet app create` reads). */
  dir: string;
  manifest: PodManifestInput;
  /** app.yaml as an object; validated here (parseAppConfig) before anything is sent. */
  appYaml: Record<string, unknown>;
  salt: string;
  funded: bigint;
  feePerReplacement: bigint;
  maxFeesPerDay: bigint;
}

/**
 * What `podnet app create --network` does, through the SDK: the vault (no controllers of its own), its network terms,
 * the funding, and the hand-over to every live node (content keys re-wrapped per node). `owner`'s blob cache must hold
 * the manifest's blobs. Throws when a live node did not take the app.
 */
export async function createNetworkApp(owner: PodnetClientWithActions, o: NetworkAppOptions): Promise<Address> {
  mkdirSync(o.dir, { recursive: true });
  writeFileSync(join(o.dir, "pod.yaml"), JSON.stringify(o.manifest, null, 2));
  writeFileSync(join(o.dir, "app.yaml"), JSON.stringify(o.appYaml, null, 2));
  const config = parseAppConfig(o.appYaml);
  const { vault } = await owner.createApp({
    salt: keccak256(stringToHex(o.salt)),
    specHash: manifestHash(parseManifest(o.manifest)),
    configHash: appConfigHash(config),
    limits: appConfigLimits(config),
    controllers: [],
  });
  await owner.setAppNetworkTerms({
    vault,
    enabled: true,
    feePerReplacement: o.feePerReplacement,
    maxFeesPerDay: o.maxFeesPerDay,
  });
  await owner.fundApp({ vault, amount: o.funded });
  const failed = (await handAppToNetwork(owner, { vault, dir: o.dir })).filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`hand-over of ${vault} failed: ${JSON.stringify(failed)}`);
  return vault;
}
