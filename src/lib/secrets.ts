import { base64ToBytes, bytesToBase64 } from "./crypto";
import { ApiError } from "./errors";

/**
 * Secret step text at rest: AES-256-GCM with a key from the SECRETS_KEY Worker secret
 * (base64 of 32 bytes; local dev and tests have their own dev key). The scenario id is
 * bound in as additional data, so a ciphertext copied into another scenario will not open.
 * Format: `v1.<iv b64>.<ciphertext b64>`.
 */
const keys = new Map<string, Promise<CryptoKey>>();

/** The log line's `msg` when a deployment lacks its SECRETS_KEY (see `ApiErrorOptions.log`). */
export const SECRETS_KEY_MISSING = "SECRETS_KEY is not configured";
export const SECRETS_UNAVAILABLE =
  "Secret steps are unavailable: the server's encryption key is not configured. Nothing was stored or started; try again later.";

/**
 * A deployment without SECRETS_KEY: the request that needs it answers 503 (not 500) and the
 * operator gets one log line saying what is missing.
 */
const secretsUnavailable = () => new ApiError("service_unavailable", SECRETS_UNAVAILABLE, { log: SECRETS_KEY_MISSING });

/** The key, or the 503 above when it is not configured. */
export function requireSecretsKey(secret: string | undefined): string {
  if (!secret) throw secretsUnavailable();
  return secret;
}

function importKey(configured: string | undefined): Promise<CryptoKey> {
  const secret = requireSecretsKey(configured);
  let key = keys.get(secret);
  if (!key) {
    const raw = base64ToBytes(secret);
    if (raw.byteLength !== 32) throw new Error("SECRETS_KEY must be base64 of exactly 32 bytes");
    key = crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, ["encrypt", "decrypt"]);
    keys.set(secret, key);
  }
  return key;
}

const encoder = new TextEncoder();

export async function encryptSecret(secret: string | undefined, plaintext: string, scope: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(scope) },
    await importKey(secret),
    encoder.encode(plaintext),
  );
  return `v1.${bytesToBase64(iv)}.${bytesToBase64(new Uint8Array(sealed))}`;
}

export async function decryptSecret(secret: string | undefined, sealed: string, scope: string): Promise<string> {
  const [version, iv, data] = sealed.split(".");
  if (version !== "v1" || !iv || !data) throw new Error("Unreadable secret");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: base64ToBytes(iv) as BufferSource, additionalData: encoder.encode(scope) },
    await importKey(secret),
    base64ToBytes(data) as BufferSource,
  );
  return new TextDecoder().decode(plain);
}
