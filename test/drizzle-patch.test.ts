/**
 * patches/drizzle-orm+0.41.0.patch (Ponder's pinned drizzle-orm, answers kept per prototype and per column): it is
 * applied, and drizzle still answers as before it, the first time and every time after.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { repoRoot } from "@podnet/devnet";
import { Column, entityKind, is, Param, SQL, sql } from "drizzle-orm";
import { jsonb, numeric, PgColumn, PgDialect, PgJsonb, PgText, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";

const table = pgTable("patched", {
  doc: jsonb("doc"),
  amount: numeric("amount"),
  at: timestamp("at"),
  name: text("name"),
});

describe("drizzle-orm as patched for Ponder's sync store", () => {
  it("is applied where Ponder loads it from (npm install runs patch-package)", () => {
    // Ponder resolves drizzle-orm from its own folder; the workspace hoists both to the root node_modules.
    const ponder = createRequire(join(repoRoot, "node_modules", "ponder", "package.json"));
    const entity = readFileSync(ponder.resolve("drizzle-orm").replace(/index\.cjs$/, "entity.js"), "utf8");
    expect(entity, "drizzle-orm is not patched: run npm install (its postinstall applies patches/)").toContain(
      "Podnet patch",
    );
  });

  it("answers is() by class and superclass, the same way every time", () => {
    for (let round = 0; round < 3; round++) {
      expect(is(table.name, PgText)).toBe(true);
      expect(is(table.name, PgColumn)).toBe(true);
      expect(is(table.name, Column)).toBe(true);
      expect(is(table.name, PgJsonb)).toBe(false);
      expect(is(table.doc, PgJsonb)).toBe(true);
      expect(is(sql`x`, SQL)).toBe(true);
      expect(is(sql`x`, Column)).toBe(false);
      expect(is({}, SQL)).toBe(false);
      expect(is(null, SQL)).toBe(false);
      expect(is("text", SQL)).toBe(false);
    }
  });

  it("still refuses a class that is not a drizzle entity", () => {
    class NotAnEntity {}
    for (let round = 0; round < 2; round++) {
      expect(() => is(sql`x`, NotAnEntity as never)).toThrow(/doesn't look like a Drizzle entity/);
    }
  });

  it("matches entities by kind across copies of a class, as drizzle does for duplicated installs", () => {
    class Copy {
      static readonly [entityKind] = (SQL as unknown as Record<symbol, string>)[entityKind];
    }
    expect(is(new Copy(), SQL)).toBe(true);
    expect(is(new Copy(), SQL)).toBe(true);
  });

  it("types each parameter by its column, the same for every query", () => {
    const dialect = new PgDialect();
    const query = () =>
      dialect.sqlToQuery(
        sql`${new Param({ a: 1 }, table.doc)} ${new Param("1.5", table.amount)} ${new Param(new Date(0), table.at)} ${new Param("n", table.name)} ${"plain"}`,
      );
    const first = query();
    expect(first.typings).toEqual(["json", "decimal", "timestamp", "none", "none"]);
    expect(query().typings).toEqual(first.typings);
  });
});
