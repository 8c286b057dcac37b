// The floor for the API benchmark: a bare Worker doing one D1 read per request (a row by
// primary key, as JSON), on the same wrangler and local bindings as SnapTrack.
export default {
  async fetch(request: Request, env: { DB: D1Database }) {
    const url = new URL(request.url);
    if (url.pathname === "/seed") {
      await env.DB.batch([
        env.DB.prepare(
          "CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, name TEXT, url TEXT, created_at INTEGER)",
        ),
        env.DB.prepare("INSERT OR REPLACE INTO items VALUES ('web_1', 'Bench', 'https://example.com/', 1)"),
      ]);
      return new Response("seeded");
    }
    const row = await env.DB.prepare("SELECT * FROM items WHERE id = ?").bind("web_1").first();
    return Response.json({ data: [row], next_cursor: null });
  },
};
