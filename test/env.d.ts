import type { D1Migration } from "@cloudflare/vitest-plugin";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** Origin of the fixture server (test/global-setup.ts), e.g. http://127.0.0.1:40123 */
      FIXTURE_ORIGIN: string;
      /** Port of the canaries on 127.0.0.2 and [::1] (test/fixtures/canary.mjs). */
      CANARY_PORT: string;
      /** "1" while `npm run openapi:write` runs. */
      WRITE_OPENAPI: string;
    }
  }
}
