import { defineConfig } from "drizzle-kit";

// The directory (D1). One migrations folder: drizzle-kit writes it, wrangler applies it, the
// tests read it. Each account's own database has its own config: drizzle.account.config.ts.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/directory-schema.ts",
  out: "./migrations",
});
