import { defineConfig } from "drizzle-kit";

// Each account's own database (a SQLite Durable Object). drizzle-kit writes the SQL and a
// `migrations.js` bundle that the object imports and applies when it starts.
export default defineConfig({
  dialect: "sqlite",
  driver: "durable-sqlite",
  schema: "./src/db/account-schema.ts",
  out: "./src/db/account-migrations",
});
