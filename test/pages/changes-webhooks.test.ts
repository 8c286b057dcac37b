import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/db/ids";
import { PLANS } from "../../src/limits/plans";
import { csrfToken } from "../../src/middleware/auth";
import {
  accountSql,
  BASE,
  body,
  call,
  FIXTURE,
  jsonInit,
  newAccount,
  sessionCookie,
  type TestAccount,
  uniqueEmail,
} from "../helpers";

/**
 * Dashboard pages for change detection and webhooks inside workerd: the website form's
 * change detection fields, the compare page and diff image (owner only), approving,
 * Settings → Webhooks (secret once, plan limit, members), and CSRF on every new form.
 */
const page = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`${BASE}${path}`, init));
const HTML = { accept: "text/html" };
const get = (cookie: string, path: string) => page(path, { headers: { cookie, ...HTML }, redirect: "manual" });

async function post(
  cookie: string,
  path: string,
  fields: Record<string, string | string[]> = {},
  csrf?: string | null,
) {
  const token = csrf === undefined ? await csrfToken(cookie.split("=").slice(1).join("=")) : csrf;
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) form.append(k, one);
  if (token !== null) form.append("_csrf", token);
  return page(path, {
    method: "POST",
    redirect: "manual",
    headers: {
      cookie,
      origin: BASE,
      "sec-fetch-site": "same-origin",
      "content-type": "application/x-www-form-urlencoded",
      ...HTML,
    },
    body: form,
  });
}

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A website with two completed captures, the second compared with the first and changed (rows as the jobs leave them). */
async function comparedPair(acc: TestAccount) {
  const made = await post(acc.cookie, "/app/websites", { name: "Changing", url: `${FIXTURE()}/colors` });
  expect(made.status).toBe(303);
  const websiteId = (made.headers.get("location") ?? "").split("?")[0]?.split("/").pop() as string;
  const now = Date.now();
  const ids = [newId("screenshot", now - 1000), newId("screenshot", now)] as const;
  const [before, after] = ids;
  for (const id of ids) {
    const key = `test/${acc.id}/${id}.png`;
    await env.SHOTS.put(key, PNG);
    await accountSql(
      acc.id,
      `INSERT INTO screenshots (id, website_id, source, status, url, options, r2_key, format, width, height,
       bytes, created_at, updated_at, captured_at) VALUES (?, ?, 'api', 'completed', ?, '{}', ?, 'png', 1280, 800, 8, ?, ?, ?)`,
      id,
      websiteId,
      `${FIXTURE()}/colors`,
      key,
      now,
      now,
      now,
    );
  }
  const diffKey = `test/${acc.id}/${after}.diff.png`;
  await env.SHOTS.put(diffKey, PNG);
  const figures = {
    changed_pixels: 12_345,
    change_ratio: 0.0121,
    max_tile_ratio: 0.5,
    regions: [{ x: 10, y: 20, width: 300, height: 40 }],
    size_changed: false,
    text: { changed: true, added_count: 2, removed_count: 1, added: ["In stock", "<b>new</b>"], removed: ["Sold out"] },
    triggered: [{ type: "text_appears", value: "In stock", regex: false }],
  };
  await accountSql(
    acc.id,
    `UPDATE screenshots SET comparison_status = 'completed', baseline_id = ?, comparison = ?, changed = 1, diff_key = ?,
     compared_at = ? WHERE id = ?`,
    before,
    JSON.stringify(figures),
    diffKey,
    now,
    after,
  );
  return { websiteId, before, after };
}

const baselineOf = async (acc: TestAccount, websiteId: string) =>
  (
    await accountSql<{ id: string | null }>(
      acc.id,
      "SELECT baseline_screenshot_id AS id FROM websites WHERE id = ?",
      websiteId,
    )
  )[0]?.id;

describe("change detection pages", () => {
  it("the website form edits change detection with the API's rules, errors beside each field", async () => {
    const acc = await newAccount("free");
    const { websiteId } = await comparedPair(acc);
    const fields = {
      name: "Changing",
      url: `${FIXTURE()}/colors`,
      "change_detection.enabled": "on",
      "change_detection.threshold": "200",
      "change_detection.tile_threshold": "5",
      "change_detection.baseline": "approved",
      "change_detection.ignore_selectors": "#clock\n.ad",
      "change_detection.ignore_regions": "0, 0, 100, 50\n1 2 3",
      "change_detection.text": "on",
      "change_detection.triggers": "appears: In stock\ndisappears: /^(a+)+$/\nwhenever",
      "change_detection.confirm": "on",
    };
    const bad = await post(acc.cookie, `/app/websites/${websiteId}/edit`, fields);
    expect(bad.status).toBe(422);
    const text = await bad.text();
    expect(text).toMatch(/id="f-change_detection-threshold-error">[^<]*100/);
    expect(text).toMatch(/id="f-change_detection-ignore_regions-error">[^<]*&quot;1 2 3&quot;/);
    expect(text).toContain(">#clock\n.ad</textarea>");
    // Triggers: a line not in the form's shape, and a regex prone to catastrophic backtracking.
    expect(text).toMatch(/id="f-change_detection-triggers-error">[^<]*&quot;whenever&quot;/);
    const badRegex = await post(acc.cookie, `/app/websites/${websiteId}/edit`, {
      ...fields,
      "change_detection.threshold": "0.5",
      "change_detection.ignore_regions": "0, 0, 100, 50",
      "change_detection.triggers": "disappears: /^(a+)+$/",
    });
    expect(badRegex.status).toBe(422);
    expect(await badRegex.text()).toMatch(
      /id="f-change_detection-triggers-error">trigger 1: [^<]*catastrophic backtracking/,
    );

    const ok = await post(acc.cookie, `/app/websites/${websiteId}/edit`, {
      ...fields,
      "change_detection.threshold": "0.5",
      "change_detection.ignore_regions": "0, 0, 100, 50",
      "change_detection.triggers": "appears: In stock\ndisappears: /Sold (out|old)/",
    });
    expect(ok.status).toBe(303);
    // Stored as the API would store it (the same schema, every field).
    const [stored] = await accountSql<{ cd: string }>(
      acc.id,
      "SELECT change_detection AS cd FROM websites WHERE id = ?",
      websiteId,
    );
    expect(JSON.parse(stored?.cd ?? "")).toEqual({
      enabled: true,
      threshold: 0.5,
      tile_threshold: 5,
      ignore_selectors: ["#clock", ".ad"],
      ignore_regions: [{ x: 0, y: 0, width: 100, height: 50 }],
      baseline: "approved",
      text: true,
      triggers: [
        { type: "text_appears", value: "In stock", regex: false },
        { type: "text_disappears", value: "Sold (out|old)", regex: true },
      ],
      confirm: true,
    });
    // Unchecking "enabled" turns detection off.
    const off = await post(acc.cookie, `/app/websites/${websiteId}/edit`, {
      name: "Changing",
      url: `${FIXTURE()}/colors`,
    });
    expect(off.status).toBe(303);
    const page2 = await (await get(acc.cookie, `/app/websites/${websiteId}`)).text();
    expect(page2).toContain("Change detection is off.");
  });

  it("compare page, diff image and approve: the owner only, approve needs the CSRF token", async () => {
    const acc = await newAccount("free");
    const other = await newAccount("free");
    const { websiteId, before, after } = await comparedPair(acc);

    const compare = await get(acc.cookie, `/app/screenshots/${after}/compare`);
    expect(compare.status).toBe(200);
    const html = await compare.text();
    expect(html).toContain('id="changed-pixels">12,345<');
    expect(html).toContain("1.21 %"); // change ratio
    expect(html).toContain("50.0 %"); // max tile ratio
    expect(html).toContain(`src="/app/screenshots/${before}/image"`);
    expect(html).toContain(`src="/app/screenshots/${after}/diff"`);
    expect(html).toContain('<rect x="10" y="20" width="300" height="40"');
    // The text diff beside the pixels: added and removed lines (escaped), the trigger that fired.
    expect(html).toMatch(
      /<ol class="lines added" id="text-added"><li>In stock<\/li><li>&lt;b&gt;new&lt;\/b&gt;<\/li><\/ol>/,
    );
    expect(html).toContain('<ol class="lines removed" id="text-removed"><li>Sold out</li></ol>');
    expect(html).toMatch(/id="triggered">.*text <code>In stock<\/code> appeared/s);
    const diff = await get(acc.cookie, `/app/screenshots/${after}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await diff.arrayBuffer())).toEqual(PNG);

    // The gallery marks the changed capture and the history lists it, both linking to the compare page.
    const site = await (await get(acc.cookie, `/app/websites/${websiteId}`)).text();
    expect(site.match(new RegExp(`href="/app/screenshots/${after}/compare"`, "g"))?.length).toBe(2);
    expect(site).not.toContain(`/app/screenshots/${before}/compare`);
    expect(await (await get(acc.cookie, `/app/screenshots/${after}`)).text()).toContain("Compare with baseline");

    for (const path of ["/compare", "/diff"]) {
      const res = await get(other.cookie, `/app/screenshots/${after}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toMatch(/^text\/html/);
    }
    expect((await post(other.cookie, `/app/screenshots/${after}/approve`)).status).toBe(404);
    expect((await post(acc.cookie, `/app/screenshots/${after}/approve`, {}, null)).status).toBe(403);
    expect((await post(acc.cookie, `/app/screenshots/${after}/approve`, {}, "0".repeat(64))).status).toBe(403);
    expect(await baselineOf(acc, websiteId)).toBeNull();

    const approved = await post(acc.cookie, `/app/screenshots/${after}/approve`);
    expect(approved.status).toBe(303);
    expect(approved.headers.get("location")).toBe(`/app/screenshots/${after}/compare?approved=1`);
    expect(await baselineOf(acc, websiteId)).toBe(after);
    // Approving means what it says: the website now compares with the approved baseline.
    const [mode] = await accountSql<{ cd: string }>(
      acc.id,
      "SELECT change_detection AS cd FROM websites WHERE id = ?",
      websiteId,
    );
    expect(JSON.parse(mode?.cd ?? "{}").baseline).toBe("approved");
    const approvedPage = await (await get(acc.cookie, approved.headers.get("location") as string)).text();
    expect(approvedPage).toContain("This capture is the website's baseline:");
    expect(approvedPage).toContain("are compared with this one from now on");

    // And it can be undone: back to the previous capture, the approved one released.
    const back = await post(acc.cookie, `/app/websites/${websiteId}/baseline/previous`);
    expect(back.headers.get("location")).toBe(`/app/websites/${websiteId}?baseline=previous`);
    expect(await baselineOf(acc, websiteId)).toBeNull();
    const [again] = await accountSql<{ cd: string }>(
      acc.id,
      "SELECT change_detection AS cd FROM websites WHERE id = ?",
      websiteId,
    );
    expect(JSON.parse(again?.cd ?? "{}").baseline).toBe("previous");
    expect((await post(other.cookie, `/app/websites/${websiteId}/baseline/previous`)).status).toBe(404);
  });
});

describe("Settings → Webhooks", () => {
  const hook = () => `${FIXTURE()}/hook`;
  const countHooks = async (accountId: string) =>
    (await accountSql<{ n: number }>(accountId, "SELECT count(*) AS n FROM webhooks"))[0]?.n;

  it("creates with the secret shown once, field errors, the plan's limit; CSRF on every form; another account's is 404", async () => {
    const acc = await newAccount("free");
    const other = await newAccount("free");
    expect((await post(acc.cookie, "/app/settings/webhooks", { url: hook(), events: "*" }, null)).status).toBe(403);
    expect(await countHooks(acc.id)).toBe(0);

    const invalid = await post(acc.cookie, "/app/settings/webhooks", { url: "ftp://example.com/", events: [] });
    expect(invalid.status).toBe(422);
    const invalidText = await invalid.text();
    expect(invalidText).toMatch(/id="f-url-error">[^<]+/);
    expect(invalidText).toMatch(/id="f-events-error">Choose/);

    const created = await post(acc.cookie, "/app/settings/webhooks", {
      url: hook(),
      description: "CI",
      events: ["screenshot.failed", "change.detected"],
    });
    // Post/Redirect/Get: the endpoint's page shows the secret once; a reload shows it no more
    // and creates nothing; the secret is kept sealed, and is nobody else's to see.
    expect(created.status).toBe(303);
    const [row, ...more] = await accountSql<{ id: string; events: string; created_by: string }>(
      acc.id,
      "SELECT id, events, created_by FROM webhooks",
    );
    expect(more).toEqual([]);
    expect(JSON.parse(row?.events ?? "")).toEqual(["screenshot.failed", "change.detected"]);
    const id = row?.id as string;
    const location = created.headers.get("location") ?? "";
    expect(location).toMatch(new RegExp(`^/app/settings/webhooks/${id}\\?secret=[A-Za-z0-9]+&created=1#secret-box$`));
    const [kept] = await accountSql<{ value: string }>(acc.id, "SELECT value FROM one_time_values");
    expect(kept?.value).toMatch(/^v1\./);
    expect((await get(other.cookie, location)).status).toBe(404);
    const createdText = await (await get(acc.cookie, location)).text();
    const secret = /id="new-secret"[^>]*value="(whsec_[^"]+)"/.exec(createdText)?.[1];
    expect(secret).toBeDefined();
    expect(createdText).toContain("it will not be shown again");
    expect(JSON.stringify(kept)).not.toContain(secret as string);
    const reloaded = await (await get(acc.cookie, location)).text();
    expect(reloaded).not.toContain(secret as string);
    expect(reloaded).toContain("was shown once");
    expect(await countHooks(acc.id)).toBe(1);
    expect(await accountSql(acc.id, "SELECT id FROM one_time_values")).toEqual([]);

    // Free allows one endpoint: the page says so, and a forged post gets the same message.
    expect(await (await get(acc.cookie, "/app/settings/webhooks")).text()).toMatch(
      /free plan allows 1 webhook endpoint/,
    );
    const over = await post(acc.cookie, "/app/settings/webhooks", { url: hook(), events: "*" });
    expect(over.status).toBe(403);
    expect(await over.text()).toMatch(/free plan allows 1 webhook endpoint/);
    expect(await countHooks(acc.id)).toBe(1);

    // Every form refuses a post without the token; another account gets 404 for every page and form.
    for (const action of ["", "/enable", "/disable", "/rotate", "/test", "/delete"]) {
      const res = await post(acc.cookie, `/app/settings/webhooks/${id}${action}`, { url: hook(), events: "*" }, null);
      expect(res.status, action).toBe(403);
      const theirs = await post(other.cookie, `/app/settings/webhooks/${id}${action}`, { url: hook(), events: "*" });
      expect(theirs.status, action).toBe(404);
    }
    for (const path of ["", "/delete"])
      expect((await get(other.cookie, `/app/settings/webhooks/${id}${path}`)).status).toBe(404);
    const [deliveries] = await accountSql<{ n: number }>(
      acc.id,
      "SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ?",
      id,
    );
    expect(deliveries?.n).toBe(0);

    // Rotate (after a confirmation page): a new secret, shown once; disable, edit, delete after the confirmation page.
    expect(await (await get(acc.cookie, `/app/settings/webhooks/${id}/rotate`)).text()).toContain("Rotate secret");
    const rotation = await post(acc.cookie, `/app/settings/webhooks/${id}/rotate`);
    expect(rotation.status).toBe(303);
    const rotated = await (await get(acc.cookie, rotation.headers.get("location") ?? "")).text();
    const secret2 = /id="new-secret"[^>]*value="(whsec_[^"]+)"/.exec(rotated)?.[1];
    expect(secret2).toMatch(/^whsec_/);
    expect(secret2).not.toBe(secret);
    expect(rotated).toContain("keeps signing next to it for 24 hours");
    expect((await post(acc.cookie, `/app/settings/webhooks/${id}/disable`)).headers.get("location")).toContain(
      "disabled=1",
    );
    const test = await post(acc.cookie, `/app/settings/webhooks/${id}/test`);
    expect(test.status).toBe(409);
    expect(await test.text()).toContain("enable it first");
    const edited = await post(acc.cookie, `/app/settings/webhooks/${id}`, {
      url: hook(),
      events: "*",
      description: "",
    });
    expect(edited.status).toBe(303);
    const [stored] = await accountSql<{ events: string; description: string | null; enabled: number }>(
      acc.id,
      "SELECT events, description, enabled FROM webhooks WHERE id = ?",
      id,
    );
    expect(stored).toEqual({ events: '["*"]', description: null, enabled: 0 });
    expect(await (await get(acc.cookie, `/app/settings/webhooks/${id}/delete`)).text()).toContain("Delete endpoint");
    const deleted = await post(acc.cookie, `/app/settings/webhooks/${id}/delete`);
    expect(deleted.headers.get("location")).toBe("/app/settings/webhooks?deleted=1");
    expect(await countHooks(acc.id)).toBe(0);
  });

  it("members see webhooks and their logs; only owners manage them", async () => {
    const owner = await newAccount("starter");
    const res = await call(
      "/account/invitations",
      jsonInit("POST", { email: uniqueEmail("member"), role: "member" }, { cookie: owner.cookie }),
    );
    const { link } = await body<{ link: string }>(res);
    const accepted = await call(
      "/auth/accept-invitation",
      jsonInit("POST", {
        token: new URL(link).pathname.split("/").pop(),
        name: "Mia",
        password: "a long enough password",
      }),
    );
    const member = sessionCookie(accepted);
    expect((await get(member, "/app/settings/api-keys")).status).toBe(403);
    const list = await get(member, "/app/settings/webhooks");
    expect(list.status).toBe(200);
    expect(await list.text()).toContain("Only an owner of the account can add");
    const refused = await post(member, "/app/settings/webhooks", { url: hook(), events: "*" });
    expect(refused.status).toBe(403);
    expect(await countHooks(owner.id)).toBe(0);
    const created = await post(owner.cookie, "/app/settings/webhooks", { url: hook(), events: "*" });
    const id = (created.headers.get("location") ?? "").split("?")[0]?.split("/").pop() as string;
    const seen = await (await get(member, `/app/settings/webhooks/${id}`)).text();
    expect(seen).toContain("Deliveries");
    expect(seen).not.toContain('action="/app/settings/webhooks/');
    for (const action of ["", "/enable", "/disable", "/rotate", "/test", "/delete"]) {
      const res = await post(member, `/app/settings/webhooks/${id}${action}`, { url: hook(), events: "*" });
      expect(res.status, action).toBe(403);
    }
    for (const path of ["/rotate", "/delete"])
      expect((await get(member, `/app/settings/webhooks/${id}${path}`)).status).toBe(403);

    // At the plan's website limit a member is told to ask an owner, not sent to the owners' plan page.
    for (let i = 0; i < PLANS.starter.websites; i++) {
      expect((await call("/v1/websites", jsonInit("POST", { name: `s${i}`, url: FIXTURE() }, owner.auth))).status).toBe(
        201,
      );
    }
    const full = await (await get(member, "/app/websites")).text();
    expect(full).toContain("ask an owner of the account to upgrade");
    expect(full).not.toContain('href="/app/settings/plan"');
    const ownersView = await (await get(owner.cookie, "/app/websites")).text();
    expect(ownersView).toContain('<a href="/app/settings/plan">upgrade</a>');
  });
});
