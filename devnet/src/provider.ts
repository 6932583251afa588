/**
 * A provider started the way an operator starts one: tokens for the stake, what `podnet-worker register` does (listing
 * and stake; run in the caller's process), then `podnet-worker run`. The demo, the benchmarks and the tests all start
 * theirs here.
 */
import { deriveEncryptionKeyPair, type Pricing, type Resources } from "@podnet/sdk/protocol";
import type { Address, Hex } from "viem";
import type { HDAccount } from "viem/accounts";
import { loadConfig } from "../../worker/src/config.js";
import { registerProvider } from "../../worker/src/register.js";
import { claimProviderAccount, releaseProviderAccount } from "./account-claims.js";
import { devAccount } from "./accounts.js";
import type { LocalChain } from "./chain.js";
import {
  describeLeftovers,
  localDocker,
  providerLabel,
  removeProviderFirewall,
  removeProviderLeftovers,
} from "./docker.js";
import { fund, TOKEN } from "./funds.js";
import { freePort } from "./net.js";
import { repoRoot } from "./paths.js";
import { startWorkerProcess, type WorkerProcess, workerEnv } from "./worker.js";

/** Options of {@link startProvider}. */
export type ProviderOptions = {
  /** The provider's anvil dev account. Docker objects are labelled by its address: one account per test file. */
  index: number;
  /** The worker's data dir (state, blobs, logs). */
  dataDir: string;
  /** Listed prices (PODNET_PRICING); default: the worker's. */
  pricing?: Pricing;
  /** Listed attributes, `key=value` (PODNET_ATTRIBUTES). */
  attributes?: string[];
  /** Listed capacity (PODNET_CAPACITY); default: the worker's. */
  capacity?: Resources;
  /** Where the API and the ingress listen and the API is registered (default 127.0.0.1; see Devnet's `host`). */
  host?: string;
  /** Default: a free port below the ephemeral range, where Docker assigns the pods' published host ports. */
  apiPort?: number;
  /** Default: like `apiPort`. */
  ingressPort?: number;
  /**
   * An address of the ingress's own (e.g. 127.0.0.3; default `host`), published in the registry as the provider's
   * ingress (PODNET_PUBLIC_INGRESS_ADDRESSES), so App DNS answers it: give each provider its own loopback address on
   * one shared `ingressPort`, as providers on different machines all serve port 80.
   */
  publishedIngressAddress?: string;
  /**
   * `ip:port` pairs pods of this provider may reach on the host (PODNET_POD_EGRESS_ALLOW, docs/worker.md "Egress
   * allow-list"): e.g. the devnet's chain and indexer, for an autoscaler sidecar. Default: none.
   */
  podEgressAllow?: string[];
  /** More PODNET_* settings; they win over everything above. */
  env?: Record<string, string>;
  /** The worker's open-file limit (soft and hard); default: this process'. */
  nofile?: number;
};

/** A provider whose worker runs. */
export interface RunningProvider {
  index: number;
  account: HDAccount;
  address: Address;
  privateKey: Hex;
  /** The X25519 key it registered, which publishers wrap blob keys to. */
  encryptionKey: Hex;
  /** `podnet.provider=<address>`: the label of every Docker object its worker makes. */
  label: string;
  /** The worker's environment, for a restart with the same settings. */
  env: Record<string, string>;
  /**
   * What an earlier run with this account had left on the Docker Engine and was removed before the worker started
   * (e.g. "1 container, 1 network"); "" when nothing was.
   */
  leftoversRemoved: string;
  /** The running worker; {@link RunningProvider.restart} replaces it. */
  worker: WorkerProcess;
  /** Starts the worker again with the same environment, logging to `logName`; stops the running one first (SIGTERM),
   *  unless it is already gone (a stop, a kill -9). */
  restart(logName?: string): Promise<WorkerProcess>;
}

/**
 * The pod subnet pool of provider account `index`: a /16 of its own (10.64.0.0 .. 10.191.0.0), so workers of several
 * accounts on one machine (test files in parallel, the demo beside a benchmark) never ask Docker for overlapping
 * networks. A real provider keeps the worker's default pool (10.200.0.0/14).
 */
export function podNetworkPoolOf(index: number): string {
  return `10.${64 + (index % 128)}.0.0/16`;
}

/** PODNET_PRICING of `pricing`: the worker's config takes the prices as decimal strings. */
export function pricingEnv(pricing: Pricing): string {
  return JSON.stringify({
    perCpuMilli: String(pricing.perCpuMilli),
    perMemoryMiB: String(pricing.perMemoryMiB),
    perStorageMiB: String(pricing.perStorageMiB),
    flat: String(pricing.flat),
  });
}

/**
 * Funds (gas when needed, 10,000 tokens), registers and starts a provider worker for anvil dev account `index`.
 * First it removes what an earlier run of the same account left behind (killed before its cleanup: containers that
 * a Docker Engine restart brought back, networks, volumes, firewall chains): the account is this run's alone (one per
 * test file, the demo's own), and a leftover would otherwise take a pod's name, subnet or port.
 */
export async function startProvider(chain: LocalChain, opts: ProviderOptions): Promise<RunningProvider> {
  claimProviderAccount(opts.index);
  try {
    return await startClaimedProvider(chain, opts);
  } catch (error) {
    // Nothing of this account runs (a refused setting, a failed registration): the next start may take it.
    releaseProviderAccount(opts.index);
    throw error;
  }
}

async function startClaimedProvider(chain: LocalChain, opts: ProviderOptions): Promise<RunningProvider> {
  const { account, privateKey } = devAccount(opts.index);
  const leftoversRemoved = describeLeftovers(await removeProviderLeftovers(localDocker(), account.address));
  await removeProviderFirewall(account.address);
  await fund(chain, account, 10_000n * TOKEN);
  const env = workerEnv(chain, {
    providerKey: privateKey,
    dataDir: opts.dataDir,
    host: opts.host,
    apiPort: opts.apiPort ?? (await freePort()),
    ingressPort: opts.ingressPort ?? (await freePort()),
    extra: {
      PODNET_POD_NETWORK_POOL: podNetworkPoolOf(opts.index),
      ...(opts.pricing ? { PODNET_PRICING: pricingEnv(opts.pricing) } : {}),
      ...(opts.attributes ? { PODNET_ATTRIBUTES: JSON.stringify(opts.attributes) } : {}),
      ...(opts.capacity ? { PODNET_CAPACITY: JSON.stringify(opts.capacity) } : {}),
      ...(opts.podEgressAllow ? { PODNET_POD_EGRESS_ALLOW: JSON.stringify(opts.podEgressAllow) } : {}),
      ...(opts.publishedIngressAddress
        ? {
            PODNET_INGRESS_HOST: opts.publishedIngressAddress,
            PODNET_PUBLIC_INGRESS_ADDRESSES: JSON.stringify([opts.publishedIngressAddress]),
          }
        : {}),
      ...opts.env,
    },
  });
  // What `podnet-worker register` runs, with the config it would load from this environment, in this process: a
  // process of its own cost 0.8 CPU seconds to load the worker (60 providers a test run: 46 cpu-s). The command line
  // itself is tested where it matters (worker-lifecycle, the package and image tests: registerWorker).
  await registerProvider(loadConfig({ env: { ...process.env, ...env }, cwd: repoRoot }), () => {});
  const provider: RunningProvider = {
    index: opts.index,
    account,
    address: account.address,
    privateKey,
    encryptionKey: deriveEncryptionKeyPair(privateKey).publicKeyHex,
    label: providerLabel(account.address),
    leftoversRemoved,
    env,
    worker: await startWorkerProcess(env, "worker.log", opts.nofile),
    async restart(logName) {
      // A worker still running would keep its ports (the new one could not listen) and, left behind, go on
      // recreating its pods after the test's cleanup.
      await provider.worker.stop();
      provider.worker = await startWorkerProcess(env, logName, opts.nofile);
      return provider.worker;
    },
  };
  return provider;
}
