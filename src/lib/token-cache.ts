/**
 * token hash → account id, per isolate. This is not a security decision: a token never
 * moves to another account, and whether it is still the account's current token is asked
 * of the account's Durable Object on every request, so revocation applies at once.
 * It spares the hot path a D1 round trip.
 */
const MAX_ENTRIES = 10_000;
const entries = new Map<string, string>();

export const tokenAccounts = {
  get(tokenHash: string): string | undefined {
    return entries.get(tokenHash);
  },
  set(tokenHash: string, accountId: string): void {
    if (entries.size >= MAX_ENTRIES) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    entries.set(tokenHash, accountId);
  },
  delete(tokenHash: string): void {
    entries.delete(tokenHash);
  },
};
