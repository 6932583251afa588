// What the search tests share: a fixed "now" and the market's rules as the indexer reads them.
import type { MarketRules } from "./search.js";

export const now = 1_800_000_000;

export const rules: MarketRules = {
  minProviderStake: 100n,
  collateralSeconds: 10n,
  heartbeatThreshold: 600n,
  maxBidsPerOrder: 3,
  minBidCollateralBps: 0n,
};
