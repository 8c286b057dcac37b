import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the real bindings from wrangler.toml (D1 with our
// migrations, R2, the rate-limit Durable Object, Queues, Browser Rendering).
export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations(path.join(import.meta.dirname, "migrations")),
          // Local-only: the capture fixtures are served on 127.0.0.1.
          ALLOW_PRIVATE_TARGETS: "true",
          SECRETS_KEY: "ZGV2LW9ubHkta2V5LWZvci1zbmFwdHJhY2stdGVzdHM=",
          FIXTURE_ORIGIN: inject<string>("fixtureOrigin"),
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    setupFiles: ["./test/apply-migrations.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
