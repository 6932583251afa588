/**
 * Push for the chain follower: a new-head subscription (`eth_subscribe("newHeads")`) over a WebSocket endpoint pokes
 * the follower the moment a block is announced, so a lease is seen in milliseconds rather than at the next poll.
 * The follower still reads the head and the logs itself: a subscription only says "look now". When the socket drops,
 * viem's transport reconnects and subscribes again (here without a limit on attempts, every 2 s); meanwhile, and
 * whenever the endpoint is down, the follower's polling carries on alone.
 */
import { createPublicClient, webSocket } from "viem";
import type { Logger } from "../log.js";

/** Reconnection of the subscription's socket: a daemon keeps trying, at this pace. */
const RECONNECT = { attempts: Number.MAX_SAFE_INTEGER, delay: 2_000 };

/** The endpoint to subscribe on: `rpcSubscribeUrl`, else `rpcUrl` when it is a WebSocket one, else none. */
export function subscribeUrlOf(config: { rpcUrl: string; rpcSubscribeUrl?: string }): string | undefined {
  if (config.rpcSubscribeUrl) return config.rpcSubscribeUrl;
  return /^wss?:/.test(config.rpcUrl) ? config.rpcUrl : undefined;
}

/**
 * Calls `onHead` for every new head `url` announces. Returns the unsubscribe. Errors are logged once until the
 * subscription delivers again (an outage is one warning, not one per retry).
 */
export function watchNewHeads(url: string, onHead: () => void, log: Logger): () => void {
  const client = createPublicClient({ transport: webSocket(url, { reconnect: RECONNECT, retryCount: 0 }) });
  let failing = false;
  // On a WebSocket transport viem subscribes to newHeads rather than polling.
  return client.watchBlockNumber({
    emitOnBegin: false,
    onBlockNumber: () => {
      if (failing) log.info("new-head subscription delivering again", { url: redactedUrl(url) });
      failing = false;
      onHead();
    },
    onError: (error) => {
      if (failing) return;
      failing = true;
      log.warn("new-head subscription failed; polling carries on until it is back", {
        url: redactedUrl(url),
        error: error.message.split("\n")[0],
      });
    },
  });
}

/** The URL without credentials or a path (RPC providers put API keys in either). */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return "(invalid URL)";
  }
}
