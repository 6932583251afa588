// @ts-check
import { dateTime } from "../format.js";
import { html, Page, Pill, useResource } from "../ui.js";

/** What needs the provider's attention: unexpected closures, a late heartbeat, low gas, failing pods. */
export function AlertsPage() {
  const { data, error } = useResource("/alerts", ["alerts"]);
  const alerts = data?.alerts ?? [];
  const open = alerts.filter((a) => !a.clearedAt);
  return html`<${Page} title="Alerts" ready=${!!data} error=${error}>
    <p class="muted">${open.length} open alert${open.length === 1 ? "" : "s"}.</p>
    <table data-testid="alerts-table"><thead><tr><th>Since</th><th>Kind</th><th>Severity</th><th>Message</th><th>Cleared</th></tr></thead>
      <tbody>${alerts.map(
        (a) => html`<tr key=${a.id}><td>${dateTime(a.since)}</td><td>${a.kind}</td>
          <td><${Pill} tone=${a.severity === "critical" ? "bad" : "warn"}>${a.severity}</${Pill}></td>
          <td>${a.message}${a.leaseId ? html` (<a href=${`#/leases/${a.leaseId}`}>lease #${a.leaseId}</a>)` : null}</td>
          <td>${a.clearedAt ? dateTime(a.clearedAt) : "open"}</td></tr>`,
      )}</tbody></table>
  </${Page}>`;
}
