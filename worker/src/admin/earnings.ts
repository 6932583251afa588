import { type Context, Hono } from "hono";
import { HttpError } from "../api/http-error.js";
import type { WithdrawalRecord } from "../store/worker-state.js";
import type { AdminRouteDeps } from "./deps.js";

export const EARNINGS_PERIODS = { day: 30, week: 26, month: 12 } as const;
export type EarningsPeriod = keyof typeof EARNINGS_PERIODS;

export interface EarningsBucket {
  /** The bucket's first second: 00:00 UTC of the day, of the week's Monday, or of the month's first day (unix s). */
  start: number;
  gross: string;
  fee: string;
  net: string;
  withdrawals: number;
}

/**
 * GET /admin/v1/earnings?period=day|week|month and GET /admin/v1/earnings.csv: the provider's withdrawals (recorded by
 * market/withdrawal.ts from each ProviderWithdrew, kept in the worker's state) summed per UTC day, week or month, over
 * the last 30 days, 26 weeks or 12 months (every bucket, empty ones too, oldest first), with their total. Money is
 * token base units as decimal strings.
 */
export function earningsRoutes({ ctx, guard, now = Date.now }: AdminRouteDeps) {
  const report = (c: Context) => earningsReport(ctx.state.data.withdrawals, periodOf(c), Math.floor(now() / 1000));
  return new Hono()
    .get("/admin/v1/earnings", guard.require("read"), (c) => c.json(report(c)))
    .get("/admin/v1/earnings.csv", guard.require("read"), (c) => {
      const { period, buckets } = report(c);
      const rows = buckets.map((b) =>
        [b.start, new Date(b.start * 1000).toISOString().slice(0, 10), b.gross, b.fee, b.net, b.withdrawals].join(","),
      );
      return c.body(["start,date,gross,fee,net,withdrawals", ...rows, ""].join("\r\n"), 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="podnet-earnings-${period}.csv"`,
      });
    });
}

function periodOf(c: Context): EarningsPeriod {
  const period = c.req.query("period") ?? "day";
  if (!Object.hasOwn(EARNINGS_PERIODS, period)) throw new HttpError(400, "period: must be day, week or month");
  return period as EarningsPeriod;
}

/** The withdrawals in `period` buckets up to `nowSec` (see {@link earningsRoutes}). */
export function earningsReport(withdrawals: readonly WithdrawalRecord[], period: EarningsPeriod, nowSec: number) {
  const starts: number[] = [];
  let start = bucketStart(period, nowSec);
  for (let i = 0; i < EARNINGS_PERIODS[period]; i++) {
    starts.unshift(start);
    start = bucketStart(period, start - 1);
  }
  const sums = new Map(starts.map((s) => [s, { gross: 0n, fee: 0n, net: 0n, withdrawals: 0 }]));
  const total = { gross: 0n, fee: 0n, net: 0n };
  for (const w of withdrawals) {
    const sum = sums.get(bucketStart(period, w.at));
    if (!sum) continue;
    sum.gross += BigInt(w.gross);
    sum.fee += BigInt(w.fee);
    sum.net += BigInt(w.net);
    sum.withdrawals += 1;
    total.gross += BigInt(w.gross);
    total.fee += BigInt(w.fee);
    total.net += BigInt(w.net);
  }
  const buckets: EarningsBucket[] = starts.map((s) => {
    const sum = sums.get(s) as { gross: bigint; fee: bigint; net: bigint; withdrawals: number };
    return {
      start: s,
      gross: sum.gross.toString(),
      fee: sum.fee.toString(),
      net: sum.net.toString(),
      withdrawals: sum.withdrawals,
    };
  });
  return {
    period,
    buckets,
    total: { gross: total.gross.toString(), fee: total.fee.toString(), net: total.net.toString() },
  };
}

/** The first second of the UTC day, ISO week (Monday) or month holding `sec`. */
export function bucketStart(period: EarningsPeriod, sec: number): number {
  const date = new Date(sec * 1000);
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()) / 1000;
  if (period === "day") return day;
  if (period === "week") return day - ((date.getUTCDay() + 6) % 7) * 86_400;
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) / 1000;
}
