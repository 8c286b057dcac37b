import { drizzle as d1Drizzle } from "drizzle-orm/d1";
import { drizzle as durableDrizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "./account-migrations/migrations.js";
import * as account from "./account-schema";
import * as directory from "./directory-schema";

/** The directory in D1: users, sessions, accounts, token hashes, invitations. */
export const getDirectory = (d1: D1Database) => d1Drizzle(d1, { schema: directory });
export type DirectoryDb = ReturnType<typeof getDirectory>;

/** One account's own database: the SQLite storage of its Durable Object. */
export const accountDatabase = (storage: DurableObjectStorage) => durableDrizzle(storage, { schema: account });
export type Db = ReturnType<typeof accountDatabase>;

/** Brings an account's database to the current schema (drizzle-kit's migrations, each applied once). */
export const migrateAccountDatabase = (db: Db) => migrate(db, migrations);
