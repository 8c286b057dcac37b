import { createApp } from "./app";
import { handleQueue } from "./jobs/consumer";
import { handleScheduled } from "./jobs/cron";
import type { JobMessage } from "./queue/messages";

export { LoginThrottle } from "./limits/login-throttle";
export { AccountObject } from "./tenant/account-object";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => handleQueue(batch, env, ctx),
  scheduled: (controller, env, ctx) => handleScheduled(controller, env, ctx),
} satisfies ExportedHandler<Env, JobMessage>;
