/**
 * Prefixed, time-sortable ids: `<prefix>_` + a lowercase ULID (48-bit ms time + 80 random bits,
 * Crockford base32). Lexical order is creation order, which cursor pagination relies on;
 * within one millisecond an isolate increments the random part so order still holds.
 */
export const ID_PREFIX = {
  account: "acc",
  user: "usr",
  invitation: "inv",
  website: "web",
  screenshot: "shot",
  scenario: "scn",
  run: "run",
  schedule: "sch",
  webhook: "whk",
  /** A webhook event: the `webhook-id` header, the same on every attempt. */
  event: "msg",
  delivery: "whd",
  /** A message kept in the local outbox. */
  mail: "mail",
  /** Alerts (people, not servers): a channel, one alert (an occurrence), one delivery of it. */
  alertChannel: "alc",
  alert: "alr",
  alertDelivery: "ald",
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = "";
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function nextRandom(ms: number): number[] {
  if (ms === lastTime) {
    // Increment the 80-bit random part (16 base32 digits) so ids stay ordered.
    const next = [...lastRandom];
    for (let i = next.length - 1; i >= 0; i--) {
      if ((next[i] as number) < 31) {
        next[i] = (next[i] as number) + 1;
        break;
      }
      next[i] = 0;
    }
    lastRandom = next;
  } else {
    lastTime = ms;
    lastRandom = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b & 31);
    lastRandom[0] = (lastRandom[0] as number) & 15; // leave room to increment
  }
  return lastRandom;
}

export function newId(kind: IdKind, now: number = Date.now()): string {
  const random = nextRandom(now)
    .map((d) => ALPHABET[d])
    .join("");
  return `${ID_PREFIX[kind]}_${encodeTime(now)}${random}`;
}

export const ID_PATTERN = /^[a-z]{3,4}_[0-9a-hjkmnp-tv-z]{26}$/;

/**
 * An id of `kind` determined by `key` (SHA-256, in the same alphabet and length as newId):
 * the same key always names the same thing, so work repeated after a redelivered queue
 * message finds what the first attempt made instead of making it twice.
 */
export async function keyedId(kind: IdKind, key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  const chars = [...digest.slice(0, 26)].map((b) => ALPHABET[b & 31]).join("");
  return `${ID_PREFIX[kind]}_${chars}`;
}
