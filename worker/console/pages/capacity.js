// @ts-check
import { cpu, mem } from "../format.js";
import { Bar, Card, html, Page, useResource } from "../ui.js";

/** Registered capacity against what leases hold and what their pods use right now (sampled by the worker). */
export function CapacityPage() {
  const { data, error } = useResource("/capacity", ["usage", "leases", "overview"]);
  const rows = data
    ? [
        { label: "CPU", key: "cpuMillis", fmt: cpu, live: data.usage?.cpuMillis },
        { label: "Memory", key: "memoryMiB", fmt: mem, live: data.usage?.memoryMiB },
        { label: "Disk", key: "storageMiB", fmt: mem, live: undefined },
      ]
    : [];
  return html`<${Page} title="Capacity" ready=${!!data} error=${error}>
    ${
      data
        ? html`<div class="cards">
            ${rows.map(
              (r) => html`<${Card} testid=${`capacity-${r.key}`} label=${r.label}
                value=${`${r.fmt(data.committed[r.key])} of ${r.fmt(data.capacity[r.key])} allocated`}
                sub=${html`${r.fmt(data.free[r.key])} free${r.live === undefined ? "" : html` · <span data-testid=${`usage-${r.key}`}>${r.fmt(r.live)} in use</span>`}
                  <${Bar} part=${data.committed[r.key]} total=${data.capacity[r.key]} inner=${r.live} />`} />`,
            )}
          </div>
          <p class="muted">Top bar: allocated to leases. Lower bar: live use of the pods${
            data.usage?.sampledAt
              ? `, sampled ${new Date(data.usage.sampledAt).toLocaleTimeString()}`
              : " (no sample yet)"
          }.</p>`
        : null
    }
  </${Page}>`;
}
