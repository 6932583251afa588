// @ts-check
import { send } from "../api.js";
import { cpu, dateTime, mem, money, monthly } from "../format.js";
import { ActionButton, Card, html, Page, Pill, useResource } from "../ui.js";

/** One lease: its figures, its event journal (kept by the worker, so it answers while the chain is down), its logs. */
export function LeasePage({ id }) {
  const { data, error } = useResource(`/leases/${encodeURIComponent(id)}`, ["leases", "usage"]);
  const logs = useResource(`/leases/${encodeURIComponent(id)}/logs?tail=500`, ["leases"]);
  const lease = data?.lease;
  return html`<${Page} title=${`Lease #${id}`} ready=${!!data && !!logs.data} error=${error}>
    ${
      lease
        ? html`<div class="cards">
            <${Card} label="Publisher" value=${html`<span class="mono">${lease.publisher}</span>`} />
            <${Card} label="Pod" value=${html`<${Pill} tone=${lease.phase === "running" ? "ok" : "warn"}>${lease.phase}</${Pill}>`} />
            <${Card} label="Price" value=${monthly(lease.pricePerSecond)} sub=${`${money(lease.pricePerSecond)} per second`} />
            <${Card} label="Accrued / withdrawable" value=${money(lease.accrued)} sub=${`withdrawable ${money(lease.withdrawable)}`} />
            <${Card} label="Resources" value=${`${cpu(lease.resources.cpuMillis)}, ${mem(lease.resources.memoryMiB)}`}
              sub=${lease.usage ? `using ${cpu(lease.usage.cpuMillis)}, ${mem(lease.usage.memoryMiB)}` : "no usage sample"} />
            <${Card} label="Runs out" value=${dateTime(lease.runsOutAt)} sub=${`started ${dateTime(lease.startedAt)}`} />
          </div>
          <div class="actions">
            <${ActionButton} testid="stop-lease" label="Stop this pod" tone="danger"
              confirm="Stop the pod and end the lease? The publisher's remaining escrow goes back to them. Say why (the publisher sees it in the lease's events)."
              fields=${[{ name: "reason", label: "Reason" }]}
              run=${(input) => send("POST", `/leases/${encodeURIComponent(id)}/stop`, { reason: input.reason ?? "" })} />
          </div>
          <h2>Events</h2>
          <table data-testid="lease-events"><thead><tr><th>When</th><th>Event</th><th>Detail</th></tr></thead>
            <tbody>${(data.events ?? []).map(
              (e) => html`<tr><td>${dateTime(e.at)}</td><td>${e.type}</td><td>${e.message}</td></tr>`,
            )}</tbody></table>
          <h2>Logs</h2>
          ${logs.error ? html`<div class="notice bad">${logs.error}</div>` : null}
          <pre class="logs" data-testid="lease-logs">${(logs.data?.lines ?? []).map(
            (l) => html`<span class=${l.stream}>${l.container ? `[${l.container}] ` : ""}${l.text}\n</span>`,
          )}</pre>`
        : null
    }
  </${Page}>`;
}
