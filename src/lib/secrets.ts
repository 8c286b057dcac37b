import { base64ToBytes, bytesToBase64 } from "./crypto";

/**
 * Secret step text at rest: AES-256-GCM with a key from the SECRETS_KEY Worker secret
 * (base64 of 32 bytes; local dev and tests have their own dev key). The scenario id is
 * bound in as additional data, so a ciphertext copied into another scenario will not open.
 * Format: `v1.<iv b64>.<ciphertext b64>`.
 */
const keys = new Map<string, Promise<CryptoKey>>();

function importKey(secret: string | undefined): Promise<CryptoKey> {
  if (!secret) throw new Error("SECRETS_KEY is not configured: secret steps cannot be stored or run");
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
