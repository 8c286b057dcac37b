import { crc32, randomBase62, sha256Hex, toBase62 } from "./crypto";

/**
 * API tokens, GitHub style: `snpt_` + 30 random base62 + 6 base62 chars of CRC32(random part).
 * The checksum lets us (and secret scanners) reject typos and fakes without a lookup.
 */
export const TOKEN_PREFIX = "snpt_";
const RANDOM_CHARS = 30;
const CHECKSUM_CHARS = 6;
const TOKEN_RE = /^snpt_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;
/** How much of the token `GET /account/api-token` shows. */
export const DISPLAY_PREFIX_CHARS = TOKEN_PREFIX.length + 4;

const checksum = (random: string) => toBase62(crc32(random), CHECKSUM_CHARS);

export function generateApiToken(): string {
  const random = randomBase62(RANDOM_CHARS);
  return `${TOKEN_PREFIX}${random}${checksum(random)}`;
}

/** Well-formed with a valid checksum. Cheap; no I/O. */
export function isWellFormedToken(token: string): boolean {
  const m = TOKEN_RE.exec(token);
  return m !== null && checksum(m[1] as string) === m[2];
}

export const hashApiToken = (token: string) => sha256Hex(token);
