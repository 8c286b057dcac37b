import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { pngRows } from "../../src/compare/png";
import {
  accountSql,
  body,
  call,
  createScenario,
  createWebsite,
  downloadBytes,
  expectError,
  FIXTURE,
  jsonInit,
  newAccount,
  type RunView,
  requestCapture,
  runToEnd,
  type ShotView,
  settled,
  type TestAccount,
} from "../helpers";
import { receivedAtLeast, receiver, verify } from "../webhook-receiver";

interface Comparison {
  status: "pending" | "completed" | "failed";
  baseline_id: string | null;
  changed: boolean | null;
  changed_pixels: number | null;
  change_ratio: number | null;
  max_tile_ratio: number | null;
  regions: { x: number; y: number; width: number; height: number }[];
  size_changed: boolean | null;
  diff_url: string | null;
  error?: string;
}
type Compared = ShotView & { comparison: Comparison | null };

/** Captures (with `x-variant` sent to the page) and waits for the capture and its comparison. */
async function shot(acc: TestAccount, websiteId: string, variant = "none"): Promise<Compared> {
  const queued = await requestCapture(acc, websiteId, { headers: { "X-Variant": variant } });
  await settled(acc, queued.id);
  await vi.waitFor(
    async () => {
      const [row] = await accountSql<{ comparison_status: string | null }>(
        acc.id,
        "SELECT comparison_status FROM screenshots WHERE id = ?",
        queued.id,
      );
      if (row?.comparison_status === "pending") throw new Error("comparison pending");
    },
    { timeout: 30_000, interval: 200 },
  );
  const res = await call(`/v1/screenshots/${queued.id}`, { headers: acc.auth });
  expect(res.status).toBe(200);
  return body<Compared>(res);
}

const VIEWPORT = { viewport: { width: 400, height: 300 } };

describe("change detection on website captures (real browser, queue, R2, the account's database)", () => {
  let acc: TestAccount;
  let site: { id: string };
  let first: Compared;
  let second: Compared;
  let boxed: Compared;
  let hook: { id: string; secret: string };
  const changes = receiver();

  beforeAll(async () => {
    acc = await newAccount("business"); // 60 requests a minute: this file makes ~30 calls per account
    const created = await call(
      "/v1/webhooks",
      jsonInit("POST", { url: changes.url, events: ["change.detected"] }, acc.auth),
    );
    expect(created.status).toBe(201);
    hook = await body(created);
    site = await createWebsite(acc, `${FIXTURE()}/change`, VIEWPORT);
    const patch = await call(
      `/v1/websites/${site.id}`,
      jsonInit("PATCH", { change_detection: { ignore_selectors: [".clock"] } }, acc.auth),
    );
    expect(patch.status).toBe(200);
    first = await shot(acc, site.id);
    second = await shot(acc, site.id);
    boxed = await shot(acc, site.id, "box");
  }, 120_000);

  it("the first capture has no baseline: no comparison", () => {
    expect(first.status).toBe("completed");
    expect(first.comparison).toBeNull();
  });

  it("an unchanged page is not a change, and the ignored clock still changes in the image", async () => {
    expect(second.comparison).toMatchObject({
      status: "completed",
      baseline_id: first.id,
      changed: false,
      changed_pixels: 0,
      size_changed: false,
      regions: [],
    });
    // The clock differs in the stored images (not altered), yet it was left out of the comparison.
    expect(second.sha256).not.toBe(first.sha256);
    expect(await downloadBytes(acc, second.id)).not.toEqual(await downloadBytes(acc, first.id));
  });

  it("a 40×40 box is ~1,600 changed pixels with a region around it, and the diff shows it in red", async () => {
    const c = boxed.comparison as Comparison;
    expect(c).toMatchObject({ status: "completed", baseline_id: second.id, changed: true, size_changed: false });
    expect(c.changed_pixels).toBeGreaterThanOrEqual(1500);
    expect(c.changed_pixels).toBeLessThanOrEqual(1700);
    expect(c.regions).toHaveLength(1);
    const [region] = c.regions;
    expect(region?.x).toBeLessThanOrEqual(200);
    expect(region?.y).toBeLessThanOrEqual(150);
    expect((region?.x ?? 0) + (region?.width ?? 0)).toBeGreaterThanOrEqual(240);
    expect((region?.y ?? 0) + (region?.height ?? 0)).toBeGreaterThanOrEqual(190);
    expect(c.diff_url).toBe(`/v1/screenshots/${boxed.id}/diff`);

    const res = await call(c.diff_url as string, { headers: acc.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    const rows = await pngRows(res.body as ReadableStream<Uint8Array>);
    expect([rows.width, rows.height]).toEqual([400, 300]);
    const row = new Uint8Array(rows.width * 4);
    for (let y = 0; y <= 170; y++) await rows.readRow(row, rows.width);
    await rows.close();
    expect([...row.subarray(220 * 4, 220 * 4 + 3)]).toEqual([255, 0, 0]); // inside the box: red
    expect(row[20 * 4]).toBeGreaterThan(200); // elsewhere: faded
  });

  it("sends change.detected, signed, with the screenshot and its comparison, for the change only", async () => {
    const [req] = await receivedAtLeast(changes.t, 1);
    const event = verify(hook.secret, req as NonNullable<typeof req>);
    expect(event.type).toBe("change.detected");
    expect(event.data).toEqual(await body(await call(`/v1/screenshots/${boxed.id}`, { headers: acc.auth })));
    // The unchanged capture sent nothing: one delivery in all.
    const deliveries = await body<{ data: unknown[] }>(
      await call(`/v1/webhooks/${hook.id}/deliveries`, { headers: acc.auth }),
    );
    expect(deliveries.data).toHaveLength(1);
  });

  it("the website's changes list the changed capture only", async () => {
    const res = await call(`/v1/websites/${site.id}/changes`, { headers: acc.auth });
    expect(res.status).toBe(200);
    const page = await body<{ data: Compared[] }>(res);
    expect(page.data.map((s) => s.id)).toEqual([boxed.id]);
  });

  it("another account's diff and changes are 404", async () => {
    const other = await newAccount("pro");
    await expectError(await call(`/v1/screenshots/${boxed.id}/diff`, { headers: other.auth }), 404, "not_found");
    await expectError(await call(`/v1/websites/${site.id}/changes`, { headers: other.auth }), 404, "not_found");
    await expectError(
      await call(`/v1/screenshots/${boxed.id}/approve`, { method: "POST", headers: other.auth }),
      404,
      "not_found",
    );
  });

  it("approve switches the baseline", async () => {
    const patch = await call(
      `/v1/websites/${site.id}`,
      jsonInit("PATCH", { change_detection: { ignore_selectors: [".clock"], baseline: "approved" } }, acc.auth),
    );
    expect(patch.status).toBe(200);
    const approved = await call(`/v1/screenshots/${boxed.id}/approve`, { method: "POST", headers: acc.auth });
    expect(approved.status).toBe(200);
    const website = await body<{ baseline_screenshot_id: string }>(
      await call(`/v1/websites/${site.id}`, { headers: acc.auth }),
    );
    expect(website.baseline_screenshot_id).toBe(boxed.id);
    // Without the box, compared with the approved (boxed) capture rather than the previous one.
    const next = await shot(acc, site.id);
    expect(next.comparison).toMatchObject({ status: "completed", baseline_id: boxed.id, changed: true });
  }, 60_000);
});

describe("identical captures", () => {
  it("are unchanged as soon as the capture completes: same bytes and text, nothing decoded, no comparison job", async () => {
    const acc = await newAccount("pro");
    const site = await createWebsite(acc, `${FIXTURE()}/`, VIEWPORT);
    const first = await settled(acc, (await requestCapture(acc, site.id)).id);
    const queued = await requestCapture(acc, site.id);
    // The row is read once it completes: its comparison is already there, completed.
    const second = (await settled(acc, queued.id)) as unknown as Compared;
    expect(second.sha256).toBe(first.sha256);
    expect(second.comparison).toEqual({
      status: "completed",
      baseline_id: first.id,
      changed: false,
      changed_pixels: 0,
      change_ratio: 0,
      max_tile_ratio: 0,
      regions: [],
      size_changed: false,
      diff_url: null,
      text: { changed: false, added_count: 0, removed_count: 0, added: [], removed: [] },
      triggered: [],
      transient: false,
    });
  });
});

describe("a tall full page", () => {
  it("a small change at the bottom of a 12,000 px page is caught by the tile rule", async () => {
    const acc = await newAccount("business"); // 60 requests a minute: this file makes ~30 calls per account
    const site = await createWebsite(acc, `${FIXTURE()}/change?tall=1`, { ...VIEWPORT, full_page: true });
    await call(
      `/v1/websites/${site.id}`,
      jsonInit("PATCH", { change_detection: { ignore_selectors: [".clock"] } }, acc.auth),
    );
    await shot(acc, site.id);
    const after = await shot(acc, site.id, "box");
    expect(after.height).toBeGreaterThanOrEqual(12_000);
    const c = after.comparison as Comparison;
    expect(c).toMatchObject({ status: "completed", changed: true });
    // Far below the 0.1 % area threshold, over the 2 % tile threshold.
    expect((c.change_ratio as number) * 100).toBeLessThan(0.1);
    expect((c.max_tile_ratio as number) * 100).toBeGreaterThan(2);
    expect(c.regions[0]?.y).toBeGreaterThanOrEqual(11_900);
  }, 90_000);
});

describe("JPEG and WebP captures (transcoded to PNG once, in the browser)", () => {
  const formats = ["jpeg", "webp"] as const;
  let acc: TestAccount;
  const got: Record<string, { base: Compared; same: Compared; boxed: Compared; copyOfSame?: string }> = {};
  const keyOf = async (id: string) =>
    (
      (await accountSql<{ r2_key: string }>(acc.id, "SELECT r2_key FROM screenshots WHERE id = ?", id))[0] as {
        r2_key: string;
      }
    ).r2_key;

  beforeAll(async () => {
    acc = await newAccount("business"); // 60 requests a minute: this block makes ~25 calls
    await Promise.all(
      formats.map(async (format) => {
        const site = await createWebsite(acc, `${FIXTURE()}/change`, { ...VIEWPORT, format, quality: 80 });
        const patch = await call(
          `/v1/websites/${site.id}`,
          jsonInit("PATCH", { change_detection: { ignore_selectors: [".clock"] } }, acc.auth),
        );
        expect(patch.status).toBe(200);
        const base = await shot(acc, site.id);
        const same = await shot(acc, site.id);
        const copyOfSame = (await env.SHOTS.head(`${await keyOf(same.id)}.cmp.png`))?.version;
        const boxed = await shot(acc, site.id, "box");
        got[format] = { base, same, boxed, copyOfSame };
      }),
    );
  }, 120_000);

  for (const format of formats) {
    it(`${format}: an unchanged page is unchanged, a 40×40 box is a change with its region and a red diff`, async () => {
      const { base, same, boxed } = got[format] as NonNullable<(typeof got)[string]>;
      expect(base.format).toBe(format);
      expect(same.comparison).toMatchObject({ status: "completed", baseline_id: base.id, changed: false });
      const c = boxed.comparison as Comparison;
      expect(c).toMatchObject({ status: "completed", baseline_id: same.id, changed: true, size_changed: false });
      // Compression blurs the box's edges a little: about its 1,600 pixels.
      expect(c.changed_pixels).toBeGreaterThanOrEqual(1400);
      expect(c.changed_pixels).toBeLessThanOrEqual(2200);
      expect(c.regions).toHaveLength(1);
      const [region] = c.regions;
      expect(region?.x).toBeGreaterThanOrEqual(190);
      expect(region?.y).toBeGreaterThanOrEqual(140);
      expect((region?.x ?? 0) + (region?.width ?? 0)).toBeLessThanOrEqual(250);
      expect((region?.y ?? 0) + (region?.height ?? 0)).toBeLessThanOrEqual(200);

      const res = await call(c.diff_url as string, { headers: acc.auth });
      expect(res.status).toBe(200);
      const rows = await pngRows(res.body as ReadableStream<Uint8Array>);
      expect([rows.width, rows.height]).toEqual([400, 300]);
      const row = new Uint8Array(rows.width * 4);
      for (let y = 0; y <= 170; y++) await rows.readRow(row, rows.width);
      await rows.close();
      expect([...row.subarray(220 * 4, 220 * 4 + 3)]).toEqual([255, 0, 0]);
    });
  }

  it("each capture's PNG copy is made once, kept next to it, and deleted with it", async () => {
    const { base, same, boxed, copyOfSame } = got.jpeg as NonNullable<(typeof got)[string]>;
    const keys = await Promise.all([base.id, same.id, boxed.id].map(keyOf));
    const copies = await Promise.all(keys.map((k) => env.SHOTS.head(`${k}.cmp.png`)));
    expect(copies.every((c) => c?.httpMetadata?.contentType === "image/png")).toBe(true);
    // `same`'s copy was made when it was compared, and reused (not written again) as the baseline of `boxed`.
    expect(copyOfSame).toBeDefined();
    expect(copies[1]?.version).toBe(copyOfSame);
    const deleted = await call(`/v1/screenshots/${boxed.id}`, { method: "DELETE", headers: acc.auth });
    expect(deleted.status).toBe(204);
    expect(await env.SHOTS.head(keys[2] as string)).toBeNull();
    expect(await env.SHOTS.head(`${keys[2]}.cmp.png`)).toBeNull();
    expect(await env.SHOTS.head(`${keys[1]}.cmp.png`)).not.toBeNull();
  });
});

describe("scenario screenshot steps with compare / fail_on_change", () => {
  let acc: TestAccount;
  let strict: RunView[];
  let lenient: RunView[];

  /** The step's screenshot, once its comparison (inline or queued) is no longer pending. */
  async function stepShot(run: RunView): Promise<Compared> {
    const id = run.steps[0]?.screenshot_id as string;
    expect(id).toBeDefined();
    await vi.waitFor(
      async () => {
        const [row] = await accountSql<{ comparison_status: string | null }>(
          acc.id,
          "SELECT comparison_status FROM screenshots WHERE id = ?",
          id,
        );
        if (row?.comparison_status === "pending") throw new Error("comparison pending");
      },
      { timeout: 30_000, interval: 200 },
    );
    return body<Compared>(await call(`/v1/screenshots/${id}`, { headers: acc.auth }));
  }

  beforeAll(async () => {
    acc = await newAccount("business"); // 60 requests a minute
    const site = await createWebsite(acc, `${FIXTURE()}/change`, VIEWPORT);
    const patch = await call(
      `/v1/websites/${site.id}`,
      jsonInit("PATCH", { change_detection: { ignore_selectors: [".clock"] } }, acc.auth),
    );
    expect(patch.status).toBe(200);
    const scenario = (steps: unknown[]) => createScenario(acc, { website_id: site.id, name: "home", steps });
    const a = await scenario([{ action: "screenshot", name: "home", fail_on_change: true }]);
    const b = await scenario([{ action: "screenshot", name: "home", compare: true }]);
    // Two runs each over the unchanged page, then the page changes (a 40×40 box) for one more.
    strict = [await runToEnd(acc, a.id), await runToEnd(acc, a.id)];
    lenient = [await runToEnd(acc, b.id)];
    const changed = await call(
      `/v1/websites/${site.id}`,
      jsonInit("PATCH", { capture: { ...VIEWPORT, headers: { "X-Variant": "box" } } }, acc.auth),
    );
    expect(changed.status).toBe(200);
    strict.push(await runToEnd(acc, a.id));
    lenient.push(await runToEnd(acc, b.id));
  }, 150_000);

  it("an unchanged page passes, its screenshot compared with the latest passed run's: not changed", async () => {
    expect(strict.slice(0, 2).map((r) => r.status)).toEqual(["passed", "passed"]);
    const first = await stepShot(strict[0] as RunView);
    expect(first.comparison).toBeNull(); // no passed run before it
    const second = await stepShot(strict[1] as RunView);
    expect(second.comparison).toMatchObject({
      status: "completed",
      baseline_id: first.id,
      changed: false,
      changed_pixels: 0,
    });
  });

  it("with fail_on_change a changed page fails the step and the run, saying what changed", async () => {
    const run = strict[2] as RunView;
    expect(run.status).toBe("failed");
    const [step] = run.steps;
    expect(step?.status).toBe("failed");
    expect(step?.error).toMatch(
      /^Screenshot "home" changed from shot_\w+ \(the latest passed run's\): 1,[5-7]\d\d pixels changed \([\d.]+ % of the compared area/,
    );
    expect(run.error).toContain('Step 1 (screenshot) failed: Screenshot "home" changed');
    // The step's screenshot is the compared one (no separate failure screenshot), with its comparison and diff.
    const shot = await stepShot(run);
    expect(shot.comparison).toMatchObject({
      status: "completed",
      baseline_id: (await stepShot(strict[1] as RunView)).id,
      changed: true,
      diff_url: `/v1/screenshots/${shot.id}/diff`,
    });
    const names = await accountSql<{ name: string }>(acc.id, "SELECT name FROM screenshots WHERE run_id = ?", run.id);
    expect(names.map((s) => s.name)).toEqual(["home"]);
  });

  it("without fail_on_change the run passes and the comparison (queued) shows the change", async () => {
    expect(lenient.map((r) => r.status)).toEqual(["passed", "passed"]);
    const base = await stepShot(lenient[0] as RunView);
    const shot = await stepShot(lenient[1] as RunView);
    const c = shot.comparison as Comparison;
    expect(c).toMatchObject({ status: "completed", baseline_id: base.id, changed: true, size_changed: false });
    expect(c.changed_pixels).toBeGreaterThanOrEqual(1500);
    expect(c.regions).toHaveLength(1);
    expect((await call(c.diff_url as string, { headers: acc.auth })).status).toBe(200);
  });
});
