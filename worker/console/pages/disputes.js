// @ts-check
import { dateTime } from "../format.js";
import { html, Page, Pill, useResource } from "../ui.js";

/** Disputes publishers opened on this provider's leases, and the dark gap or jail the market holds against it. */
export function DisputesPage() {
  const { data, error } = useResource("/disputes", ["disputes", "overview"]);
  const liveness = data?.liveness ?? {};
  const tone = (s) => (s === "answered" || s === "ruled" ? "ok" : s === "missed" ? "bad" : "warn");
  return html`<${Page} title="Disputes and dark reports" ready=${!!data} error=${error}>
    <div class="cards">
      <div class="card"><div class="label">Dark gap</div><div class="value">${
        liveness.darkGap ? `${dateTime(liveness.darkGap.from)} → ${dateTime(liveness.darkGap.until)}` : "none"
      }</div></div>
      <div class="card"><div class="label">Jailed until</div><div class="value">${dateTime(liveness.jailedUntil)}</div></div>
    </div>
    <h2>Disputes</h2>
    <table data-testid="disputes-table"><thead><tr><th>Dispute</th><th>Lease</th><th>Answer by</th><th>Status</th><th>Evidence</th></tr></thead>
      <tbody>${(data?.disputes ?? []).map(
        (d) => html`<tr key=${d.id}><td>#${d.id}</td><td><a href=${`#/leases/${d.leaseId}`}>#${d.leaseId}</a></td>
          <td>${dateTime(d.answerBy)}</td><td><${Pill} tone=${tone(d.status)}>${d.status}</${Pill}></td>
          <td class="mono">${d.evidenceURI}</td></tr>`,
      )}</tbody></table>
  </${Page}>`;
}
