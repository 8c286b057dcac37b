import { z } from "zod";
import { cachingResolver, dohResolver, type GuardPolicy, staticResolver } from "./capture/url-guard";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Local only: comma-separated `host:port` / `host:*` capture targets allowed despite being private. */
      ALLOW_PRIVATE_TARGETS?: string;
      /** Local only: JSON `{ "name": ["ip", …] }` used instead of DNS over HTTPS. */
      STATIC_DNS?: string;
      /** base64 of 32 bytes: encrypts scenario secrets at rest (a Worker secret when deployed). */
      SECRETS_KEY?: string;
      /** Milliseconds an idle browser is kept for reuse (default 600000); `npm start` sets 0: closed when idle. */
      BROWSER_KEEP_ALIVE_MS?: string;
      /** Local only: "1" keeps every message the mail path sends in the account's outbox (src/mail). */
      MAIL_OUTBOX?: string;
      /** Tests only: seconds before a confirming capture (`confirm: true`; default 60). */
      CONFIRM_DELAY_SECONDS?: string;
    }
  }
}

const ConfigSchema = z.object({
  ALLOW_PRIVATE_TARGETS: z.string().optional(),
  STATIC_DNS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return undefined;
      try {
        return z.record(z.string(), z.array(z.string())).parse(JSON.parse(s));
      } catch {
        ctx.addIssue({ code: "custom", message: "STATIC_DNS must be JSON { name: [ip, …] }" });
        return z.NEVER;
      }
    }),
  SECRETS_KEY: z.string().optional(),
});

export type Config = z.output<typeof ConfigSchema>;

const cache = new WeakMap<object, Config>();

/** Vars and secrets, checked once per environment object. */
export function config(env: Env): Config {
  let parsed = cache.get(env);
  if (!parsed) {
    parsed = ConfigSchema.parse(env);
    cache.set(env, parsed);
  }
  return parsed;
}

/** What captures may reach, from config: deployed has no allowlist and real DNS. */
export function guardPolicy(env: Env): GuardPolicy {
  const cfg = config(env);
  const allow = (cfg.ALLOW_PRIVATE_TARGETS ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return { allow, resolver: cachingResolver(cfg.STATIC_DNS ? staticResolver(cfg.STATIC_DNS) : dohResolver) };
}

/** Where links in messages point (alerts, confirmations): the dashboard's origin, without a trailing slash. */
export const appOrigin = (env: Env) => env.APP_ORIGIN.replace(/\/+$/, "");
