import type { JobOf } from "../queue/messages";
import { enqueue } from "../queue/messages";

/** Objects deleted per message; the job re-enqueues itself while more remain. */
export const PURGE_PAGE = 1000;

/** Deletes R2 objects under a prefix, one page per message, resuming where it stopped. */
export async function purgePrefix(env: Env, job: JobOf<"purge_prefix">): Promise<void> {
  const listing = await env.SHOTS.list({ prefix: job.prefix, limit: PURGE_PAGE });
  const keys = listing.objects.map((o) => o.key);
  if (keys.length > 0) await env.SHOTS.delete(keys);
  if (listing.truncated) await enqueue(env.JOBS, { type: "purge_prefix", prefix: job.prefix });
}
