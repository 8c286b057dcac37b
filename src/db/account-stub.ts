/** Object ids by account (a pure function of the name; deriving one hashes it). */
const ids = new Map<string, DurableObjectId>();

/**
 * The account's object (src/tenant/account-object.ts): its own database and limits. One per
 * account, named by the account id, so any Worker anywhere reaches the same one.
 */
export function accountStub(ns: Env["ACCOUNT"], accountId: string) {
  let id = ids.get(accountId);
  if (!id) {
    if (ids.size >= 10_000) ids.clear();
    id = ns.idFromName(accountId);
    ids.set(accountId, id);
  }
  return ns.get(id);
}
