/**
 * A typed SnapTrack API client: openapi-fetch over the types openapi-typescript generates
 * from the served OpenAPI document (client/schema.d.ts; `npm run client:write` regenerates
 * it, and `npm test` fails when it is stale).
 *
 *   const api = snaptrack("http://127.0.0.1:8787", process.env.SNAPTRACK_TOKEN);
 *   const { data, error } = await api.POST("/v1/websites", { body: { name: "Home", url: "https://example.com/" } });
 */
import createClient from "openapi-fetch";
import type { paths } from "./schema";

export type { components, operations, paths } from "./schema";

export function snaptrack(baseUrl: string, token?: string) {
  return createClient<paths>({ baseUrl, headers: token ? { authorization: `Bearer ${token}` } : {} });
}
