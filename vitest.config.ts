import { execSync } from "node:child_process";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";

// The Worker's build step (wrangler.toml's [build]: the static assets in public/). wrangler
// runs it before `dev` and `deploy`; the test pool does not, so it runs here, from the same home.
const { build } = unstable_readConfig({ config: path.join(import.meta.dirname, "wrangler.toml") });
if (build.command) execSync(build.command, { cwd: build.cwd ?? import.meta.dirname, stdio: "inherit" });

// Tests run inside workerd with the real bindings from wrangler.toml (D1 with our
// migrations, R2, the rate-limit Durable Object, Queues, Browser Rendering).
export default defineConfig({
  plugins: [
    // The account database's migrations (drizzle-kit's .sql files), as text: wrangler.toml's Text rule.
    {
      name: "sql-as-text",
      transform(code, id) {
        return id.endsWith(".sql") ? { code: `export default ${JSON.stringify(code)};`, map: null } : undefined;
      },
    },
    cloudflareTest(async ({ inject }) => {
      const fixtureOrigin = inject<string>("fixtureOrigin");
      return {
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations(path.join(import.meta.dirname, "migrations")),
            // Local-only: the fixture server on 127.0.0.1 is the one private target allowed.
            // 127.0.0.2 serves the same pages as an "internal" host the guard must refuse.
            // `localhost` on the same port is a second, cross-site fixture origin (its frames
            // run in another process).
            ALLOW_PRIVATE_TARGETS: `${new URL(fixtureOrigin).host},localhost:${new URL(fixtureOrigin).port}`,
            // The guard's fixed DNS table: nothing is resolved outside this machine. The local
            // browser resolves only loopback names (scripts/setup-browser.mjs): `public.test`
            // not at all, and `rebind.test` to 127.0.0.2 although this table calls it public.
            STATIC_DNS: JSON.stringify({
              "internal.test": ["127.0.0.2"],
              "public.test": ["93.184.216.34"],
              "rebind.test": ["93.184.216.34"],
            }),
            SECRETS_KEY: "ZGV2LW9ubHkta2V5LWZvci1zbmFwdHJhY2stdGVzdHM=",
            // Local only: every message sent is kept in the account's outbox, where the tests read it.
            MAIL_OUTBOX: "1",
            // Links in alerts point at the tests' base (test/helpers.ts BASE).
            APP_ORIGIN: "https://api.snaptrack.test",
            // A confirming capture (change_detection.confirm) waits 2 s here instead of 60.
            CONFIRM_DELAY_SECONDS: "2",
            FIXTURE_ORIGIN: fixtureOrigin,
            CANARY_PORT: String(inject<number>("canaryPort")),
            // `npm run openapi:write` sets it: the served document is written to docs/openapi.json.
            WRITE_OPENAPI: process.env.WRITE_OPENAPI ?? "",
          },
        },
      };
    }),
  ],
  test: {
    // test/node/: node's own test runner, outside workerd (`npm test` runs both).
    exclude: [...configDefaults.exclude, "test/node/**"],
    globalSetup: ["./test/global-setup.ts"],
    setupFiles: ["./test/apply-migrations.ts"],
    // One module graph per worker, not one per file: importing the Worker's ~200 modules into a
    // fresh isolate cost ~3.5 s a file (half the suite's time). The tests already share the
    // bindings' storage (each makes its own accounts), so nothing they assert depends on it.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
