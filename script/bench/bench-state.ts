/**
 * `npm run bench:state [dir]`: what saving the worker's state after a block costs the event loop that also serves the
 * ingress and the API. The follower saves after every block batch; a state file grows with the leases a provider ran
 * (their events) and its withdrawals. Two sizes: 200 live leases, and a year on (2,000 closed leases more and hourly
 * withdrawals). Each is saved 50 times, 20 ms apart, the synchronous way (`saveNow`, write and fsync on the loop) and
 * the follower's way (`flush`, only the JSON snapshot on the loop), and the loop's delay is sampled every millisecond
 * meanwhile. `dir` (default the OS temporary folder) should be on the disk a worker's dataDir would be: on tmpfs an
 * fsync costs nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { WorkerState } from "../../worker/src/store/worker-state.js";

const ROUNDS = 50;
const BLOCK_GAP_MS = 20;
const base = process.argv[2] ?? tmpdir();
const identity = {
  chainId: 31337,
  provider: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  market: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
} as const;

/** A state with `live` active and `closed` closed leases, 20 events each, and `withdrawals` withdrawals. */
function fill(state: WorkerState, live: number, closed: number, withdrawals: number) {
  for (let i = 1; i <= live + closed; i++) {
    state.data.leases[i] = {
      id: String(i),
      publisher: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      orderId: "0",
      specHash: `0x${"ab".repeat(32)}`,
      resources: { cpuMillis: 500, memoryMiB: 256, storageMiB: 1024 },
      pricePerSecond: "1000",
      startedAt: 1_760_000_000,
      status: i <= live ? "active" : "closed",
    };
    for (let k = 0; k < 20; k++)
      state.recordEvent(String(i), "pod-started", "the pod started: 2 containers running", k);
  }
  for (let i = 0; i < withdrawals; i++) {
    state.recordWithdrawal({
      at: i,
      tx: `0x${"cd".repeat(32)}`,
      gross: "123456789",
      fee: "1234",
      net: "123455555",
      leases: 200,
    });
  }
}

/** Mean wall per save, and the loop's p99 and max delay, over ROUNDS saves. */
async function measure(save: () => Promise<void> | void) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let spent = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    await save();
    spent += performance.now() - start;
    await new Promise((resolve) => setTimeout(resolve, BLOCK_GAP_MS));
  }
  delay.disable();
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  return `${(spent / ROUNDS).toFixed(1)} ms | ${ms(delay.percentile(99))} / ${ms(delay.max)} ms`;
}

console.log(`state saves after a block, ${ROUNDS} each, in ${base}\n`);
console.log("| state | size | save | per save | loop delay p99 / max |");
console.log("|---|---|---|---|---|");
for (const [name, live, closed, withdrawals] of [
  ["200 live leases", 200, 0, 0],
  ["a year on", 200, 2_000, 8_760],
] as const) {
  const dir = mkdtempSync(join(base, "podnet-bench-state-"));
  try {
    const state = WorkerState.open(dir, identity, 0);
    fill(state, live, closed, withdrawals);
    const size = `${(JSON.stringify(state.data).length / 2 ** 20).toFixed(1)} MiB`;
    const sync = await measure(() => {
      state.data.cursor++;
      state.saveNow();
    });
    console.log(`| ${name} | ${size} | saveNow (write + fsync on the loop) | ${sync} |`);
    const flushed = await measure(() => {
      state.data.cursor++;
      return state.flush();
    });
    console.log(`| ${name} | ${size} | flush (the follower's) | ${flushed} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
