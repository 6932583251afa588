import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** indexer/src: the handlers (this file sits in its api/, which Ponder does not load as handlers). */
const here = join(import.meta.dirname, "..");

/** The handler sources (not tests), relative to indexer/src. */
function handlerSources(): string[] {
  return readdirSync(here, { recursive: true, encoding: "utf8" }).filter(
    (file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.startsWith("api"),
  );
}

describe("provider row writes", () => {
  // The search index reads only rows whose changedBlock moved (provider-sync.ts): an update that bypassed
  // updateProvider would leave /search answering from the row's old values until the next full reload.
  it("go through updateProvider, which stamps changedBlock", () => {
    const bypasses: string[] = [];
    for (const file of handlerSources()) {
      const source = readFileSync(join(here, file), "utf8");
      const writes = source.match(/\.update\(\s*provider\b/g) ?? [];
      if (writes.length > 0 && file !== "state.ts") bypasses.push(`${file}: ${writes.length}`);
      if (file === "state.ts") expect(writes).toHaveLength(1);
    }
    expect(bypasses).toEqual([]);
    expect(handlerSources()).toContain("PodnetMarket.ts");
  });
});
