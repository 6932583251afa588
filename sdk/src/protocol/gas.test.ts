import { describe, expect, it } from "vitest";
import { GAS_HEADROOM_PERCENT, withGasHeadroom } from "./gas.js";

describe("withGasHeadroom", () => {
  it("adds 30% to an estimate, in integers", () => {
    expect(GAS_HEADROOM_PERCENT).toBe(130n);
    expect(withGasHeadroom(61_192n)).toBe(79_549n);
    // Gas above 2^53 stays exact (no float on the way).
    expect(withGasHeadroom(10n ** 18n + 7n)).toBe(13n * 10n ** 17n + 9n);
  });
});
