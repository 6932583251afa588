import { PGlite } from "@electric-sql/pglite";
import { describe, expect, it } from "vitest";
import { dropSchema, originOf, readOrigin, schemaAction, writeOrigin } from "./schema-origin.js";

const A = originOf(31337, 12, "0xAAAA");
const B = originOf(31337, 12, "0xbbbb");

describe("schema origin", () => {
  it("is recorded in the schema, read back, and gone with the schema", async () => {
    const db = new PGlite();
    expect(await readOrigin(db, "podnet")).toEqual({ exists: false });
    await writeOrigin(db, "podnet", A);
    expect(await readOrigin(db, "podnet")).toEqual({ exists: true, origin: "31337:12:0xaaaa" });
    await writeOrigin(db, "podnet", B);
    expect((await readOrigin(db, "podnet")).origin).toBe(B);
    await dropSchema(db, "podnet");
    expect(await readOrigin(db, "podnet")).toEqual({ exists: false });
    await db.close();
  });

  it("starts afresh on a local chain when the origin differs, and refuses on a real chain saying what to run", () => {
    const found = { exists: true, origin: A };
    expect(schemaAction({ local: true, fresh: false, schema: "podnet", current: A, found })).toEqual({
      action: "start",
    });
    expect(schemaAction({ local: true, fresh: false, schema: "podnet", current: B, found })).toMatchObject({
      action: "reset",
    });
    const refused = schemaAction({ local: false, fresh: false, schema: "podnet", current: B, found });
    expect(refused.action).toBe("refuse");
    expect(refused.action === "refuse" && refused.message).toContain("npm run indexer -- --fresh");
    expect(refused.action === "refuse" && refused.message).toContain("DATABASE_SCHEMA=podnet_2 npm run indexer");
    expect(schemaAction({ local: false, fresh: true, schema: "podnet", current: B, found })).toMatchObject({
      action: "reset",
    });
    // A schema from an indexer that recorded no origin: reset locally, left to Ponder on a real chain.
    const unknown = { exists: true };
    expect(schemaAction({ local: true, fresh: false, schema: "podnet", current: B, found: unknown }).action).toBe(
      "reset",
    );
    expect(schemaAction({ local: false, fresh: false, schema: "podnet", current: B, found: unknown }).action).toBe(
      "start",
    );
  });
});
