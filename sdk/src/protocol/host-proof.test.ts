import { describe, expect, it } from "vitest";
import { proofName, proofValue } from "./host-proof.js";

describe("host proof", () => {
  it("names the TXT record under the host and the lease with its chain", () => {
    expect(proofName("shop.example.org")).toBe("_podnet-lease.shop.example.org");
    expect(proofValue(31337, "12")).toBe("lease=31337:12");
  });
});
