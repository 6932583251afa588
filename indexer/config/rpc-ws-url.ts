/**
 * RPC_WS_URL of ponder.config.ts: the chain's WebSocket endpoint, over which Ponder hears of new blocks by
 * subscription. Unset or empty: none (Ponder polls RPC_URL). Anything else must be a ws:// or wss:// URL: Ponder would
 * otherwise fail later, or retry a socket that can never open nine times before it falls back to polling.
 */
export function rpcWsUrlFrom(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`RPC_WS_URL ${JSON.stringify(value)}: not a URL`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new Error(`RPC_WS_URL ${JSON.stringify(value)}: must be ws:// or wss://, not ${url.protocol}//`);
  }
  return value;
}
