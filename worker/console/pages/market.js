// @ts-check
import { cpu, dateTime, mem, money, short } from "../format.js";
import { html, Page, Pill, useResource } from "../ui.js";

/** The orders this provider may bid on (from the worker's feed) and the bids it placed, with their outcome. */
export function MarketPage() {
  const bids = useResource("/bids", ["bids"]);
  const orders = useResource("/orders", ["orders", "bids"]);
  const tone = (s) => (s === "done" ? "ok" : s === "lost" ? "bad" : "warn");
  return html`<${Page} title="Bids and orders" ready=${!!bids.data && !!orders.data} error=${bids.error ?? orders.error}>
    <h2>Open orders</h2>
    <table data-testid="orders-table"><thead><tr><th>Order</th><th>Publisher</th><th>Resources</th>
      <th class="num">Max price / s</th><th>Bidding closes</th></tr></thead>
      <tbody>${(orders.data?.orders ?? []).map(
        (o) => html`<tr key=${o.orderId}><td>#${o.orderId}</td><td class="mono">${short(o.publisher)}</td>
          <td>${cpu(o.resources.cpuMillis)}, ${mem(o.resources.memoryMiB)}</td>
          <td class="num">${money(o.maxPricePerSecond)}</td><td>${dateTime(o.bidDeadline)}</td></tr>`,
      )}</tbody></table>
    <h2>Bids</h2>
    <table data-testid="bids-table"><thead><tr><th>Order</th><th>Resources</th><th class="num">Price / s</th>
      <th>Deadline</th><th>Status</th></tr></thead>
      <tbody>${(bids.data?.bids ?? []).map(
        (
          b,
        ) => html`<tr key=${b.orderId}><td>#${b.orderId}</td><td>${cpu(b.resources.cpuMillis)}, ${mem(b.resources.memoryMiB)}</td>
          <td class="num">${money(b.pricePerSecond)}</td><td>${dateTime(b.bidDeadline)}</td>
          <td><${Pill} tone=${tone(b.status)}>${b.status}</${Pill}></td></tr>`,
      )}</tbody></table>
  </${Page}>`;
}
