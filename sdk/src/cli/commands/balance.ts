import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { fields } from "../output.js";
import { formatTokens } from "../units.js";
import { addressOption, stringOption } from "./shared.js";

export const options: OptionSpec = {
  address: { type: "string", value: "0x...", description: "whose balance (default: your key's address)" },
};

export const help = `Your money on the marketplace, exact: the payment token in your wallet, what sits in the escrow
of your active leases (and the unspent part a close would refund now), and what the market may take from your wallet
(allowance). Amounts are token base units, with the decimal form from the token's decimals.

example:
  podnet balance --json`;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  if (args.positionals.length > 0) throw new UsageError(`balance: unexpected argument ${args.positionals[0]}`);
  const address = addressOption(stringOption(args, "address"), "--address");
  const client = await ctx.client(address ? "none" : "required");
  const [money, token] = await Promise.all([client.getBalance(address ? { address } : {}), ctx.token()]);
  const decimal = (v: bigint) => formatTokens(v, token.decimals);
  ctx.out.result(
    {
      address: money.address,
      token,
      balance: money.balance,
      escrow: money.escrow,
      unspent: money.unspent,
      allowance: money.allowance,
      activeLeases: money.activeLeases,
      formatted: {
        balance: decimal(money.balance),
        escrow: decimal(money.escrow),
        unspent: decimal(money.unspent),
        allowance: decimal(money.allowance),
      },
    },
    () => {
      const rows: [string, bigint, string][] = [
        ["wallet", money.balance, ""],
        [
          "escrow",
          money.escrow,
          `in ${money.activeLeases.length} active lease${money.activeLeases.length === 1 ? "" : "s"}`,
        ],
        ["unspent", money.unspent, "what closing them now would refund"],
        ["allowance", money.allowance, "the market may take this from the wallet"],
      ];
      // Base units right-aligned, token amounts aligned on the decimal point.
      const width = Math.max(...rows.map(([, v]) => v.toString().length));
      const parts = rows.map(([, v]) => decimal(v).split("."));
      const intWidth = Math.max(...parts.map(([int]) => (int as string).length));
      const fracWidth = Math.max(...parts.map(([, frac]) => (frac === undefined ? 0 : frac.length + 1)));
      const aligned = (v: bigint) => {
        const [int, frac] = decimal(v).split(".");
        return `${(int as string).padStart(intWidth)}${(frac === undefined ? "" : `.${frac}`).padEnd(fracWidth)}`;
      };
      return fields([
        ["address", money.address],
        ["token", `${token.symbol} ${token.address} (${token.decimals} decimals)`],
        ...rows.map(
          ([label, v, note]) =>
            [
              label,
              `${v.toString().padStart(width)} base units = ${aligned(v)} ${token.symbol}${note ? `  ${note}` : ""}`,
            ] as const,
        ),
        ["leases", money.activeLeases.length > 0 ? money.activeLeases.join(", ") : undefined],
      ]);
    },
  );
}
