// drizzle-kit's bundle of the account database's migrations (./account-migrations/migrations.js):
// each `.sql` file is imported as text (wrangler.toml and vitest.config.ts load them so).
declare module "*.sql" {
  const sql: string;
  export default sql;
}
