/**
 * Every table: the directory in D1 (./directory-schema.ts) and each account's own database in
 * its Durable Object (./account-schema.ts). Types are imported from here.
 */
export * from "./account-schema";
export * from "./directory-schema";
