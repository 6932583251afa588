import { describe, expect, it } from "vitest";
import { standingBidderList } from "./standing-bidders.js";

describe("standingBidderList", () => {
  it("keeps active bids only, once each, in ascending address order as the market checks it", () => {
    const a = "0x00000000000000000000000000000000000000aA" as const;
    const b = "0x0000000000000000000000000000000000000B00" as const;
    const c = "0xfFfFfFFFfFFfFFFFfFffFFFfFffFffFFFFFFFFf0" as const;
    const list = standingBidderList([
      { provider: c, active: true },
      { provider: b, active: false },
      { provider: a, active: true },
      { provider: c, active: true },
    ]);
    expect(list).toEqual([a, c]);
  });

  it("sorts by numeric value, not by the checksum's letter case", () => {
    const lower = "0xabababababababababababababababababababab" as const;
    const upperish = "0xAC00000000000000000000000000000000000000" as const;
    expect(
      standingBidderList([
        { provider: upperish, active: true },
        { provider: lower, active: true },
      ]),
    ).toEqual([lower, upperish]);
  });
});
