import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/lib/crypto";
import {
  accountSql,
  body,
  call,
  createWebsite,
  downloadBytes,
  expectError,
  FIXTURE,
  jsonInit,
  newAccount,
  requestCapture,
  type ShotView,
  settled,
} from "../../helpers";
import { readZip } from "../../zip";

type Page<T> = { data: T[]; next_cursor: string | null };

describe("GET /v1/screenshots/{id}/download", () => {
  it("streams the image with Content-Type, Content-Disposition and an ETag; If-None-Match gives 304", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await settled(acc, (await requestCapture(acc, site.id, { format: "jpeg" })).id);
    const res = await call(`/v1/screenshots/${shot.id}/download`, { headers: acc.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    // Named after the website and when it was captured (UTC, to the second).
    const stamp = (shot.captured_at ?? "").slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="fixture-${stamp}.jpg"`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.byteLength).toBe(shot.bytes);
    expect(await sha256Hex(bytes)).toBe(shot.sha256);
    expect(res.headers.get("etag")).toBe(`"${shot.sha256}"`);
    const again = await call(`/v1/screenshots/${shot.id}/download`, {
      headers: { ...acc.auth, "if-none-match": `"${shot.sha256}"` },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    // RFC 9110 compares If-None-Match weakly: a W/ prefix (as proxies that compress add) still matches.
    for (const tag of [`W/"${shot.sha256}"`, `"nope", W/"${shot.sha256}"`]) {
      const weak = await call(`/v1/screenshots/${shot.id}/download`, {
        headers: { ...acc.auth, "if-none-match": tag },
      });
      expect(weak.status, tag).toBe(304);
      expect(weak.headers.get("etag")).toBe(`"${shot.sha256}"`);
    }
    const otherWeak = await call(`/v1/screenshots/${shot.id}/download`, {
      headers: { ...acc.auth, "if-none-match": 'W/"nope"' },
    });
    expect(otherWeak.status).toBe(200);
    await otherWeak.arrayBuffer();
    const other = await call(`/v1/screenshots/${shot.id}/download`, {
      headers: { ...acc.auth, "if-none-match": '"nope"' },
    });
    expect(other.status).toBe(200);
  });

  it("answers 409 while the capture is not completed", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await requestCapture(acc, site.id, { delay_ms: 4000 });
    expect(shot.status).toBe("queued");
    const err = await expectError(
      await call(`/v1/screenshots/${shot.id}/download`, { headers: acc.auth }),
      409,
      "conflict",
    );
    expect(err.message).toMatch(/queued|processing/);
    await settled(acc, shot.id);
  });
});

describe("GET/DELETE /v1/screenshots", () => {
  it("records everything the contract lists", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await settled(acc, (await requestCapture(acc, site.id)).id);
    expect(shot).toMatchObject({
      status: "completed",
      source: "api",
      website_id: site.id,
      width: 1280,
      height: 800,
      format: "png",
      bytes: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      download_url: `/v1/screenshots/${shot.id}/download`,
    });
    const created = Date.parse((shot as unknown as { created_at: string }).created_at);
    expect(Date.parse(shot.expires_at) - created).toBe(365 * 86_400_000); // business keeps 365 days
    expect(Date.parse(shot.captured_at ?? "")).toBeGreaterThanOrEqual(created);
  });

  it("lists newest first with filters and cursor pagination", async () => {
    const acc = await newAccount("business");
    const a = await createWebsite(acc, `${FIXTURE()}/colors`);
    const b = await createWebsite(acc, `${FIXTURE()}/status?code=500`);
    const a1 = await requestCapture(acc, a.id);
    const a2 = await requestCapture(acc, a.id);
    const b1 = await requestCapture(acc, b.id);
    await Promise.all([a1, a2, b1].map((s) => settled(acc, s.id)));

    const all = await body<Page<ShotView>>(await call("/v1/screenshots", { headers: acc.auth }));
    expect(all.data.map((s) => s.id)).toEqual([b1.id, a2.id, a1.id]);
    expect(all.next_cursor).toBeNull();

    const ofA = await body<Page<ShotView>>(await call(`/v1/screenshots?website_id=${a.id}`, { headers: acc.auth }));
    expect(ofA.data.map((s) => s.id)).toEqual([a2.id, a1.id]);
    const failed = await body<Page<ShotView>>(await call("/v1/screenshots?status=failed", { headers: acc.auth }));
    expect(failed.data.map((s) => s.id)).toEqual([b1.id]);
    const scheduled = await body<Page<ShotView>>(await call("/v1/screenshots?source=schedule", { headers: acc.auth }));
    expect(scheduled.data).toEqual([]);

    const page1 = await body<Page<ShotView>>(await call("/v1/screenshots?limit=2", { headers: acc.auth }));
    expect(page1.data.map((s) => s.id)).toEqual([b1.id, a2.id]);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const page2 = await body<Page<ShotView>>(
      await call(`/v1/screenshots?limit=2&cursor=${page1.next_cursor}`, { headers: acc.auth }),
    );
    expect(page2.data.map((s) => s.id)).toEqual([a1.id]);
    expect(page2.next_cursor).toBeNull();

    const since = new Date(Date.now() + 60_000).toISOString();
    const none = await body<Page<ShotView>>(await call(`/v1/screenshots?since=${since}`, { headers: acc.auth }));
    expect(none.data).toEqual([]);
    const until = await body<Page<ShotView>>(
      await call(`/v1/screenshots?until=${since}&limit=1`, { headers: acc.auth }),
    );
    expect(until.data).toHaveLength(1);
  });

  it("rejects bad list parameters with 422", async () => {
    const acc = await newAccount("business");
    for (const q of ["limit=0", "limit=101", "limit=abc", "cursor=not-a-cursor", "status=done", "since=yesterday"]) {
      const err = await expectError(
        await call(`/v1/screenshots?${q}`, { headers: acc.auth }),
        422,
        "validation_failed",
      );
      expect(Object.keys(err.errors ?? {})).toEqual([q.split("=")[0]]);
    }
  });

  it("DELETE removes the record and the bytes", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await settled(acc, (await requestCapture(acc, site.id)).id);
    const key = (
      await accountSql<{ r2_key: string }>(acc.id, "SELECT r2_key FROM screenshots WHERE id = ?", shot.id)
    )[0]?.r2_key;
    expect(await env.SHOTS.head(key as string)).not.toBeNull();
    expect((await call(`/v1/screenshots/${shot.id}`, { method: "DELETE", headers: acc.auth })).status).toBe(204);
    expect(await env.SHOTS.head(key as string)).toBeNull();
    await expectError(await call(`/v1/screenshots/${shot.id}`, { headers: acc.auth }), 404, "not_found");
    await expectError(
      await call(`/v1/screenshots/${shot.id}`, { method: "DELETE", headers: acc.auth }),
      404,
      "not_found",
    );
  });
});

describe("POST /v1/screenshots/download-bulk", () => {
  async function twoShots() {
    const acc = await newAccount("pro");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shots = [];
    for (const format of ["png", "webp"])
      shots.push(await settled(acc, (await requestCapture(acc, site.id, { format })).id));
    return { acc, site, shots };
  }

  it("streams a ZIP of the requested screenshots with a manifest", async () => {
    const { acc, shots } = await twoShots();
    const res = await call(
      "/v1/screenshots/download-bulk",
      jsonInit("POST", { ids: shots.map((s) => s.id) }, acc.auth),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="screenshots-\d{4}-\d{2}-\d{2}\.zip"$/,
    );
    const zip = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(zip.byteLength);
    const entries = readZip(zip);
    const stamp = (s: { captured_at: string | null }) =>
      (s.captured_at ?? "").slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    const [first, second] = shots.map(stamp);
    expect(entries.map((e) => e.name)).toEqual([`fixture-${first}.png`, `fixture-${second}.webp`, "manifest.json"]);
    for (const [i, s] of shots.entries()) {
      expect(await sha256Hex(entries[i]?.data as Uint8Array)).toBe(s.sha256);
      expect(entries[i]?.data).toEqual(await downloadBytes(acc, s.id));
    }
    const manifest = JSON.parse(new TextDecoder().decode(entries[2]?.data)) as { file: string; id: string }[];
    expect(manifest.map((m) => m.id)).toEqual(shots.map((s) => s.id));
  });

  it("takes a website and time range instead of ids", async () => {
    const { acc, site, shots } = await twoShots();
    const res = await call(
      "/v1/screenshots/download-bulk",
      jsonInit("POST", { website_id: site.id, since: new Date(Date.now() - 3_600_000).toISOString() }, acc.auth),
    );
    expect(res.status).toBe(200);
    const names = readZip(new Uint8Array(await res.arrayBuffer())).map((e) => e.name);
    expect(names).toHaveLength(3);
    expect(names.filter((n) => /^fixture-\d{8}-\d{6}(-2)?\.(png|webp)$/.test(n))).toHaveLength(2);
    expect(shots).toHaveLength(2);
    const empty = await call(
      "/v1/screenshots/download-bulk",
      jsonInit("POST", { website_id: site.id, until: "2000-01-01T00:00:00Z" }, acc.auth),
    );
    expect(readZip(new Uint8Array(await empty.arrayBuffer())).map((e) => e.name)).toEqual(["manifest.json"]);
  });

  it("refuses plans without bulk ZIP, unknown ids, unfinished captures and bad bodies", async () => {
    const starter = await newAccount("starter");
    await expectError(
      await call("/v1/screenshots/download-bulk", jsonInit("POST", { ids: ["shot_x"] }, starter.auth)),
      403,
      "feature_unavailable",
    );
    const { acc, site, shots } = await twoShots();
    await expectError(
      await call(
        "/v1/screenshots/download-bulk",
        jsonInit("POST", { ids: [shots[0]?.id, "shot_01jfxxxxxxxxxxxxxxxxxxxxxx"] }, acc.auth),
      ),
      404,
      "not_found",
    );
    const pending = await requestCapture(acc, site.id, { delay_ms: 3000 });
    await expectError(
      await call("/v1/screenshots/download-bulk", jsonInit("POST", { ids: [pending.id] }, acc.auth)),
      409,
      "conflict",
    );
    const both = await expectError(
      await call(
        "/v1/screenshots/download-bulk",
        jsonInit("POST", { ids: [shots[0]?.id], website_id: site.id }, acc.auth),
      ),
      422,
      "validation_failed",
    );
    expect(both.errors).toHaveProperty("ids");
    const tooMany = await expectError(
      await call(
        "/v1/screenshots/download-bulk",
        jsonInit("POST", { ids: Array.from({ length: 501 }, (_, i) => `shot_${i}`) }, acc.auth),
      ),
      422,
      "validation_failed",
    );
    expect(tooMany.errors?.ids?.[0]).toMatch(/500/);
    await settled(acc, pending.id);
  });

  it("counts as one request against the rate limit", async () => {
    const { acc, shots } = await twoShots();
    const before = await call("/v1/account", { headers: acc.auth });
    const remaining = Number(before.headers.get("x-ratelimit-remaining"));
    const res = await call(
      "/v1/screenshots/download-bulk",
      jsonInit("POST", { ids: shots.map((s) => s.id) }, acc.auth),
    );
    await res.arrayBuffer();
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBe(remaining - 1);
  });
});

describe("POST /v1/screenshots validation", () => {
  it("422 with the option's path for out-of-range capture options", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const err = await expectError(
      await call(
        "/v1/screenshots",
        jsonInit(
          "POST",
          {
            website_id: site.id,
            capture: {
              viewport: { width: 5000, height: 100 },
              device_scale_factor: 4,
              format: "gif",
              delay_ms: -1,
              unknown: 1,
              headers: { Host: "x" },
            },
          },
          acc.auth,
        ),
      ),
      422,
      "validation_failed",
    );
    expect(err.errors).toMatchObject({
      "capture.viewport.width": ["Must be ≤ 3840"],
      "capture.viewport.height": ["Must be ≥ 240"],
      "capture.device_scale_factor": ["Must be ≤ 3"],
      "capture.delay_ms": ["Must be ≥ 0"],
      "capture.headers.Host": ["Cannot be set (use `cookies` for cookies)"],
    });
    expect(err.errors).toHaveProperty(["capture.format"]);
    expect(err.errors).toHaveProperty(["capture"]);
    const png = await expectError(
      await call(
        "/v1/screenshots",
        jsonInit("POST", { website_id: site.id, capture: { format: "png", quality: 50 } }, acc.auth),
      ),
      422,
      "validation_failed",
    );
    expect(png.errors).toEqual({ "capture.quality": ["Applies to jpeg and webp only"] });
  });

  it("merges website defaults with per-capture overrides", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`, {
      viewport: { width: 900, height: 700 },
      format: "jpeg",
      headers: { A: "1" },
    });
    const shot = await requestCapture(acc, site.id, { viewport: { height: 500 }, headers: { B: "2" } });
    const view = await body<{ capture: Record<string, unknown> }>(
      await call(`/v1/screenshots/${shot.id}`, { headers: acc.auth }),
    );
    expect(view.capture).toMatchObject({
      viewport: { width: 900, height: 500 },
      format: "jpeg",
      headers: { A: "1", B: "2" },
      full_page: false,
    });
    const done = await settled(acc, shot.id);
    expect(done).toMatchObject({ width: 900, height: 500, format: "jpeg" });
  });
});
