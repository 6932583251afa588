// @ts-check
import { cpu, dateTime, mem, money, monthly, short } from "../format.js";
import { html, Page, Pill, useResource } from "../ui.js";

const phaseTone = (phase) => (phase === "running" ? "ok" : phase === "failed" ? "bad" : "warn");

/** Every active lease: publisher, price, what it has earned and what is not withdrawn yet, pod phase, live use. */
export function LeasesPage() {
  const { data, error } = useResource("/leases", ["leases", "usage", "earnings"]);
  const leases = data?.leases ?? [];
  return html`<${Page} title="Leases" ready=${!!data} error=${error}>
    <p class="muted">${leases.length} active lease${leases.length === 1 ? "" : "s"}.</p>
    <table data-testid="leases-table">
      <thead><tr>
        <th>Lease</th><th>Publisher</th><th class="num">Price / month</th><th class="num">Accrued</th>
        <th class="num">Withdrawable</th><th>Pod</th><th class="num">CPU</th><th class="num">Memory</th><th>Started</th>
      </tr></thead>
      <tbody>
        ${leases.map(
          (l) => html`<tr key=${l.id} data-lease=${l.id}>
            <td><a href=${`#/leases/${l.id}`}>#${l.id}</a></td>
            <td class="mono" title=${l.publisher}>${short(l.publisher)}</td>
            <td class="num">${monthly(l.pricePerSecond)}</td>
            <td class="num">${money(l.accrued)}</td>
            <td class="num">${money(l.withdrawable)}</td>
            <td><${Pill} tone=${phaseTone(l.phase)}>${l.phase}</${Pill}></td>
            <td class="num" data-testid="lease-cpu">${l.usage ? cpu(l.usage.cpuMillis) : "—"}</td>
            <td class="num" data-testid="lease-memory">${l.usage ? mem(l.usage.memoryMiB) : "—"}</td>
            <td>${dateTime(l.startedAt)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </${Page}>`;
}
