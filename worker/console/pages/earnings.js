// @ts-check
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { money } from "../format.js";
import { html, Page, useResource } from "../ui.js";

const PERIODS = ["day", "week", "month"];

/**
 * Earnings withdrawn per day, week or month (UTC), net of the market's fee, as a chart (uPlot) and a table, with the
 * same figures as CSV from the worker. Amounts are exact in the table and the CSV; the chart plots token units as
 * floating point, which is only a picture.
 */
export function EarningsPage() {
  const [period, setPeriod] = useState("day");
  const { data, error } = useResource(`/earnings?period=${period}`, ["earnings"]);
  const buckets = data?.buckets ?? [];
  return html`<${Page} title="Earnings" ready=${!!data} error=${error}>
    <div class="actions">
      ${PERIODS.map(
        (p) => html`<button class=${p === period ? "" : "secondary"} onClick=${() => setPeriod(p)}>By ${p}</button>`,
      )}
      <a href=${`/admin/v1/earnings.csv?period=${period}`} download data-testid="earnings-csv">Download CSV</a>
    </div>
    ${
      data
        ? html`<div class="cards">
          <div class="card"><div class="label">Net withdrawn</div><div class="value" data-testid="earnings-net">${money(data.total.net)}</div>
            <div class="sub">gross ${money(data.total.gross)}, fees ${money(data.total.fee)}</div></div>
        </div>
        <h2>Net by ${period}</h2>
        <${EarningsChart} buckets=${buckets} />
        <table><thead><tr><th>${period} from (UTC)</th><th class="num">Gross</th><th class="num">Fee</th><th class="num">Net</th><th class="num">Withdrawals</th></tr></thead>
          <tbody>${buckets.map(
            (b) => html`<tr key=${b.start}><td>${new Date(b.start * 1000).toISOString().slice(0, 10)}</td>
              <td class="num">${money(b.gross)}</td><td class="num">${money(b.fee)}</td><td class="num">${money(b.net)}</td>
              <td class="num">${b.withdrawals}</td></tr>`,
          )}</tbody></table>`
        : null
    }
  </${Page}>`;
}

/** Token units for the plot only: the exact figures are in the table. @param {string} baseUnits */
function units(baseUnits, decimals = 18) {
  const v = BigInt(baseUnits);
  const scale = 10n ** BigInt(decimals);
  return Number(v / scale) + Number(v % scale) / Number(scale);
}

function EarningsChart({ buckets }) {
  const box = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => {
    if (!box.current) return;
    if (buckets.length === 0) {
      box.current.textContent = "No withdrawals yet.";
      return;
    }
    box.current.textContent = "";
    const width = Math.max(320, box.current.clientWidth - 16);
    const plot = new uPlot(
      {
        width,
        height: 240,
        series: [{}, { label: "net", stroke: "#2456c7", fill: "rgba(36,86,199,0.12)", width: 2 }],
        // uPlot's default labels round small amounts to 0: three significant digits instead.
        axes: [
          {},
          { size: 80, values: (_, ticks) => ticks.map((v) => (v === 0 ? "0" : Number(v.toPrecision(3)).toString())) },
        ],
        scales: { x: { time: true } },
      },
      [buckets.map((b) => b.start), buckets.map((b) => units(b.net))],
      box.current,
    );
    return () => plot.destroy();
  }, [buckets]);
  return html`<div class="chart" ref=${box} data-testid="earnings-chart"></div>`;
}
