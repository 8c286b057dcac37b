#!/usr/bin/env node
// The typed client's types, generated from docs/openapi.json (the served document).
//   node scripts/client.mjs          write client/schema.d.ts
//   node scripts/client.mjs --check  fail if it differs from what the document generates
import { readFileSync, writeFileSync } from "node:fs";
import openapiTS from "openapi-typescript";

const ROOT = new URL("..", import.meta.url);
const target = new URL("client/schema.d.ts", ROOT);
const schema = JSON.parse(readFileSync(new URL("docs/openapi.json", ROOT), "utf8"));
const generated = await openapiTS(schema);
if (process.argv.includes("--check")) {
  if (readFileSync(target, "utf8") !== generated) {
    console.error("client/schema.d.ts is stale: run `npm run client:write`");
    process.exit(1);
  }
  console.log("client/schema.d.ts matches docs/openapi.json");
} else {
  writeFileSync(target, generated);
  console.log("wrote client/schema.d.ts");
}
