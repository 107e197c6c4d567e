/**
 * The SQLite schema (Drizzle). `npm run db:generate` turns changes here into migrations; the
 * fencing trigger that Drizzle cannot express lives in a custom migration beside them.
 */
import { sql } from "drizzle-orm";
import { check, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per recorded vote; `id` is the id the API handed out, `created_at` epoch ms. */
export const votes = sqliteTable("votes", {
  id: integer("id").primaryKey(),
  option: text("option").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Running count per option, maintained by the writer in the same transaction as `votes`. */
export const totals = sqliteTable("totals", {
  option: text("option").primaryKey(),
  count: integer("count").notNull(),
});

/**
 * The writer's durable state, one row: the highest fencing token that committed (a trigger
 * refuses a lower one) and the highest vote id the writer ever let the API hand out.
 */
export const writerState = sqliteTable(
  "writer_state",
  {
    id: integer("id").primaryKey(),
    fenceToken: integer("fence_token").notNull().default(0),
    idCeiling: integer("id_ceiling").notNull().default(0),
    updatedAt: integer("updated_at").notNull().default(0),
  },
  (table) => [check("writer_state_single_row", sql`${table.id} = 1`)],
);
