import { autoscalerHeartbeat, getLiveAutoscalerNodes, type PodnetClient } from "@podnet/sdk";
import type { Logger } from "../log.js";

export interface HeartbeatLoop {
  stop(): void;
}

/**
 * The node's heartbeats: one at once, then one every `params().heartbeatPeriod` seconds, the period read again before
 * each wait (governance may change it). A failed heartbeat is logged and the next one goes at the next period: the
 * liveness window is longer than the period, so one late transaction does not drop the node.
 */
export function startHeartbeatLoop(o: {
  client: PodnetClient;
  log: Logger;
  onBeat?: (ok: boolean) => void;
}): HeartbeatLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const beat = async () => {
    if (stopped) return;
    try {
      const { txHash } = await autoscalerHeartbeat(o.client);
      o.log.debug("heartbeat", { txHash });
      o.onBeat?.(true);
    } catch (error) {
      o.log.error("heartbeat failed; next one at the next period", { error: (error as Error).message });
      o.onBeat?.(false);
    }
    let periodSec = 30;
    try {
      periodSec = (await getLiveAutoscalerNodes(o.client)).params.heartbeatPeriod;
    } catch (error) {
      o.log.error("network params unreadable; heartbeat again in 30 s", { error: (error as Error).message });
    }
    if (!stopped) timer = setTimeout(beat, Math.max(1, periodSec) * 1000);
  };
  void beat();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
