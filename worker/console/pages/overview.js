// @ts-check
import { send } from "../api.js";
import { dateTime, duration, money, setToken } from "../format.js";
import { ActionButton, Card, html, Page, Pill, useResource } from "../ui.js";

/** Registration, jail, stake, heartbeat against the threshold, and the health of each part the worker depends on. */
export function OverviewPage() {
  const { data, error } = useResource("/overview", ["overview", "leases", "earnings"]);
  if (data?.token) setToken(data.token);
  const o = data;
  const reg = o?.registration;
  const hb = o?.heartbeat;
  const late = hb && hb.ageSec !== null && hb.ageSec > hb.thresholdSec / 2;
  const tone = (ok) => (ok ? "ok" : "bad");
  return html`<${Page} title="Overview" ready=${!!o} error=${error}>
    ${
      o
        ? html`
          <div class="cards">
            <${Card} testid="listing" label="Listing"
              value=${html`<${Pill} tone=${reg.status === "active" ? "ok" : "warn"}>${reg.status}</${Pill}>`}
              sub=${reg.endpoint} />
            <${Card} label="Jail" value=${html`<${Pill} tone=${o.jailed ? "bad" : "ok"}>${o.jailed ? "jailed" : "free"}</${Pill}>`}
              sub=${o.jailedUntil ? `until ${dateTime(o.jailedUntil)}` : (o.notTakingWork ?? "taking work")} />
            <${Card} testid="stake-free" label="Stake free" value=${o.stake ? money(o.stake.free) : "—"} sub=${o.stakeError ?? ""} />
            <${Card} label="Stake locked / unbonding"
              value=${o.stake ? money(o.stake.locked) : "—"} sub=${o.stake ? `unbonding ${money(o.stake.unbonding)}` : ""} />
            <${Card} label="Heartbeat"
              value=${html`<${Pill} tone=${late ? "warn" : "ok"}>${duration(hb.ageSec)} ago</${Pill}>`}
              sub=${`threshold ${duration(hb.thresholdSec)}`} />
            <${Card} testid="leases-count" label="Active leases" value=${o.leases} />
            <${Card} label="Chain (RPC)" value=${html`<${Pill} tone=${tone(o.health.chain.state === "ok")}>${o.health.chain.state}</${Pill}>`}
              sub=${`head ${o.health.chain.head}, ${duration(o.health.chain.headAgeSec)} old`} />
            <${Card} label="Docker" value=${html`<${Pill} tone=${tone(o.health.docker === "ok")}>${o.health.docker === "ok" ? "ok" : "down"}</${Pill}>`}
              sub=${o.health.docker === "ok" ? "" : o.health.docker} />
            <${Card} label="Disk" value=${html`<${Pill} tone=${tone(o.health.disk.ok)}>${o.health.disk.ok ? "ok" : "low"}</${Pill}>`}
              sub=${o.health.disk.freeBytes === null ? "" : `${(o.health.disk.freeBytes / 1024 ** 3).toFixed(1)} GiB free`} />
            <${Card} label="Indexer" value=${o.health.indexer.used ? o.health.indexer.status : "not used"} sub="the worker reads the chain directly" />
            <${Card} label="Worker" value=${`v${o.version}`} sub=${`chain ${o.chainId} · ${o.provider}`} />
          </div>
          <h2>Actions</h2>
          <div class="actions">
            ${
              reg.status === "active"
                ? html`<${ActionButton} testid="pause" label="Pause listing" tone="secondary"
                  confirm="Pause the listing? The registry stops offering this provider to new orders; running leases go on."
                  run=${() => send("POST", "/listing/pause")} />`
                : html`<${ActionButton} testid="resume" label="Resume listing"
                  confirm="Resume the listing? The registry offers this provider to new orders again."
                  run=${() => send("POST", "/listing/resume")} />`
            }
            <${ActionButton} testid="withdraw" label="Withdraw now"
              confirm="Withdraw the earnings of every lease now (one transaction)?"
              run=${() => send("POST", "/withdraw")}
              describe=${(r) => `Withdrew ${money(r.net)} net (fee ${money(r.fee)}) in ${r.tx}`} />
            <${ActionButton} testid="stake" label="Add stake" tone="secondary"
              confirm="Bond more stake (token base units)."
              fields=${[{ name: "amount", label: "Amount in base units", placeholder: "1000000000000000000" }]}
              run=${(input) => send("POST", "/stake", { amount: input.amount })} />
            <${ActionButton} testid="unstake" label="Unstake" tone="secondary"
              confirm="Start unbonding stake (token base units); it is paid out after the unbonding period."
              fields=${[{ name: "amount", label: "Amount in base units" }]}
              run=${(input) => send("POST", "/unstake", { amount: input.amount })} />
          </div>
          <${PricingForm} />
        `
        : null
    }
  </${Page}>`;
}

/** Update pricing, capacity or attributes: one registry transaction; empty fields stay as they are. */
function PricingForm() {
  const pricing = [
    { name: "perCpuMilli", label: "Price per CPU millicore per second (base units)" },
    { name: "perMemoryMiB", label: "Price per MiB of memory per second (base units)" },
    { name: "perStorageMiB", label: "Price per MiB of storage per second (base units)" },
    { name: "flat", label: "Flat price per pod per second (base units)" },
  ];
  const capacity = [
    { name: "cpuMillis", label: "Capacity: CPU millicores" },
    { name: "memoryMiB", label: "Capacity: memory MiB" },
    { name: "storageMiB", label: "Capacity: storage MiB" },
  ];
  /** The fields of `group` that were filled in, or undefined when none was. */
  const filled = (input, group, convert = (v) => v) => {
    const entries = group.filter((f) => (input[f.name] ?? "") !== "").map((f) => [f.name, convert(input[f.name])]);
    return entries.length ? Object.fromEntries(entries) : undefined;
  };
  return html`<h2>Listing</h2><div class="actions">
    <${ActionButton} testid="pricing" label="Update pricing" tone="secondary"
      confirm="Update the registered prices (a registry transaction). Running leases keep their price."
      fields=${pricing}
      run=${(input) => send("PUT", "/listing", { pricing: filled(input, pricing) })} />
    <${ActionButton} testid="capacity" label="Update capacity" tone="secondary"
      confirm="Update the registered capacity (a registry transaction). Running leases keep what they hold."
      fields=${capacity}
      run=${(input) => send("PUT", "/listing", { capacity: filled(input, capacity, Number) })} />
    <${ActionButton} testid="attributes" label="Update attributes" tone="secondary"
      confirm="Replace the listed attributes (key=value, comma-separated; e.g. region=eu, gpu=none)."
      fields=${[{ name: "attributes", label: "Attributes" }]}
      run=${(input) =>
        send("PUT", "/listing", {
          attributes: (input.attributes ?? "")
            .split(",")
            .map((a) => a.trim())
            .filter(Boolean),
        })} />
  </div>`;
}
