/**
 * A typed SnapTrack API client: openapi-fetch over the types openapi-typescript generates
 * from the served OpenAPI document (client/schema.d.ts; `npm run client:write` regenerates
 * it, and `npm test` fails when it is stale).
 *
 *   const api = snaptrack("http://127.0.0.1:8787", process.env.SNAPTRACK_TOKEN);
 *   const { data, error } = await api.POST("/v1/websites", { body: { name: "Home", url: "https://example.com/" } });
 *
 * A 429 (the plan's requests per minute) is waited out as its `Retry-After` says and the
 * request sent again, up to `maxRetries` times; any other answer is returned as it is.
 */
import createClient from "openapi-fetch";
import type { paths } from "./schema";

export type { components, operations, paths } from "./schema";

export function snaptrack(baseUrl: string, token?: string, { maxRetries = 5 } = {}) {
  const patient = async (request: Request): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(request.clone());
      if (response.status !== 429 || attempt >= maxRetries) return response;
      const seconds = Number(response.headers.get("retry-after") ?? "1");
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, seconds) * 1000));
    }
  };
  return createClient<paths>({
    baseUrl,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    fetch: patient,
  });
}
