import { env } from "cloudflare:workers";
import puppeteer from "@cloudflare/puppeteer";
import { describe, expect, it } from "vitest";
import { imageSize } from "../../src/capture/image";
import { websitePrefix } from "../../src/capture/keys";
import { bytesToBase64 } from "../../src/lib/crypto";
import { captureOf, downloadBytes, FIXTURE, newAccount } from "../helpers";
import { BLACK, BLUE, decodePng, GREEN, near, RED, WHITE } from "../png";

const pixels = async (acc: Awaited<ReturnType<typeof newAccount>>, id: string) =>
  decodePng(await downloadBytes(acc, id));

describe("captures through the Browser binding: every option acts", () => {
  it("PNG at the viewport size, pixels where the page put them", async () => {
    const acc = await newAccount("business");
    const shot = await captureOf(acc, `${FIXTURE()}/colors`, { viewport: { width: 800, height: 600 } });
    expect(shot.status, shot.error ?? "").toBe("completed");
    expect(shot).toMatchObject({ width: 800, height: 600, format: "png" });
    const png = await pixels(acc, shot.id);
    expect([png.width, png.height]).toEqual([800, 600]);
    expect(near(png.at(50, 50), RED)).toBe(true);
    expect(near(png.at(350, 50), GREEN)).toBe(true);
    expect(near(png.at(50, 220), BLUE)).toBe(true);
    expect(near(png.at(700, 500), WHITE)).toBe(true);
  });

  it("JPEG and WebP with their dimensions; quality changes the JPEG", async () => {
    const acc = await newAccount("business");
    const low = await captureOf(acc, `${FIXTURE()}/colors`, {
      format: "jpeg",
      quality: 5,
      viewport: { width: 640, height: 480 },
    });
    const high = await captureOf(acc, `${FIXTURE()}/colors`, {
      format: "jpeg",
      quality: 100,
      viewport: { width: 640, height: 480 },
    });
    const webp = await captureOf(acc, `${FIXTURE()}/colors`, { format: "webp", viewport: { width: 500, height: 400 } });
    for (const s of [low, high, webp]) expect(s.status, s.error ?? "").toBe("completed");
    const lowBytes = await downloadBytes(acc, low.id);
    expect([lowBytes[0], lowBytes[1]]).toEqual([0xff, 0xd8]);
    expect(imageSize(lowBytes)).toEqual({ width: 640, height: 480 });
    expect(high.bytes as number).toBeGreaterThan(low.bytes as number);
    const webpBytes = await downloadBytes(acc, webp.id);
    expect(new TextDecoder().decode(webpBytes.subarray(8, 12))).toBe("WEBP");
    expect(imageSize(webpBytes)).toEqual({ width: 500, height: 400 });
    expect(webp).toMatchObject({ format: "webp", width: 500, height: 400 });
  });

  it("device_scale_factor multiplies the pixels", async () => {
    const acc = await newAccount("business");
    const shot = await captureOf(acc, `${FIXTURE()}/colors`, {
      viewport: { width: 400, height: 300 },
      device_scale_factor: 2,
    });
    expect(shot).toMatchObject({ status: "completed", width: 800, height: 600 });
    const png = await pixels(acc, shot.id);
    expect(near(png.at(390, 190), RED)).toBe(true); // the 200×100 box is now 400×200
    expect(near(png.at(410, 210), WHITE)).toBe(true);
  });

  it("the gallery thumbnail is the viewport as the page shows it (scrolled, scale factor), scaled to fit 320×200", async () => {
    const acc = await newAccount("business");
    const boxes = await captureOf(acc, `${FIXTURE()}/colors`, {
      viewport: { width: 400, height: 300 },
      device_scale_factor: 2,
    });
    const scrolled = await captureOf(acc, `${FIXTURE()}/scrolled`, { viewport: { width: 640, height: 400 } });
    for (const s of [boxes, scrolled]) expect(s.status, s.error ?? "").toBe("completed");
    // The page scrolled itself to its red bottom: the picture shows it, and so must the thumbnail.
    const picture = await pixels(acc, scrolled.id);
    expect(near(picture.at(10, 395), RED)).toBe(true);
    expect(near(picture.at(10, 250), WHITE)).toBe(true);

    const thumbOf = async (shot: { id: string; website_id: string }) => {
      const listed = await env.SHOTS.list({ prefix: websitePrefix(acc.id, shot.website_id) });
      const key = listed.objects.map((o) => o.key).find((k) => k.includes(shot.id) && k.endsWith(".thumb.jpg"));
      expect(key).toBeDefined();
      const object = await env.SHOTS.get(key as string);
      expect(object).not.toBeNull();
      return new Uint8Array(await (object as R2ObjectBody).arrayBuffer());
    };
    // Decoded by a browser page of the test's own (no JPEG decoder in a Worker).
    const browser = await puppeteer.launch(env.BROWSER);
    try {
      const page = await browser.newPage();
      const sample = async (jpeg: Uint8Array, points: [number, number][]) =>
        (await page.evaluate(`(async () => {
          const bytes = Uint8Array.from(atob("${bytesToBase64(jpeg)}"), (c) => c.charCodeAt(0));
          const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
          const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
          const ctx = canvas.getContext("2d");
          ctx.drawImage(bitmap, 0, 0);
          const at = (x, y) => Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
          return { width: bitmap.width, height: bitmap.height, at: ${JSON.stringify(points)}.map(([x, y]) => at(x, y)) };
        })()`)) as { width: number; height: number; at: [number, number, number][] };
      const rgb = (list: [number, number, number][], i: number) => list[i] ?? [-1, -1, -1];

      // 400×300 at scale 2 is 800×600 pixels: a third of it is 267×200 (the aspect kept).
      const small = await sample(await thumbOf(boxes), [
        [20, 10],
        [20, 150],
        [200, 150],
      ]);
      expect(small.height).toBe(200);
      expect(Math.abs(small.width - 267)).toBeLessThanOrEqual(1);
      expect(near(rgb(small.at, 0), RED, 40)).toBe(true); // the 200×100 box: 133×67 here
      expect(near(rgb(small.at, 1), BLUE, 40)).toBe(true); // #target at (0, 200): from y 133
      expect(near(rgb(small.at, 2), WHITE, 40)).toBe(true);

      // 640×400 to 320×200; the bottom 100 of 400 CSS px are red: the thumbnail's bottom 50 rows.
      const bottom = await sample(await thumbOf(scrolled), [
        [10, 190],
        [10, 100],
      ]);
      expect([bottom.width, bottom.height]).toEqual([320, 200]);
      expect(near(rgb(bottom.at, 0), RED, 40)).toBe(true);
      expect(near(rgb(bottom.at, 1), WHITE, 40)).toBe(true);
    } finally {
      await browser.close();
    }
  });

  it("full_page captures the whole document height", async () => {
    const acc = await newAccount("business");
    const viewportOnly = await captureOf(acc, `${FIXTURE()}/tall`, { viewport: { width: 400, height: 300 } });
    const full = await captureOf(acc, `${FIXTURE()}/tall`, { viewport: { width: 400, height: 300 }, full_page: true });
    expect(viewportOnly).toMatchObject({ width: 400, height: 300 });
    expect(full).toMatchObject({ status: "completed", width: 400, height: 2000 });
    const png = await pixels(acc, full.id);
    expect(near(png.at(200, 1950), RED)).toBe(true);
    expect(near(png.at(200, 100), WHITE)).toBe(true);
  });

  it("selector clips to one element (times the scale factor)", async () => {
    const acc = await newAccount("business");
    const shot = await captureOf(acc, `${FIXTURE()}/colors`, { selector: "#target", device_scale_factor: 2 });
    expect(shot).toMatchObject({ status: "completed", width: 300, height: 100 });
    const png = await pixels(acc, shot.id);
    expect(near(png.at(10, 10), BLUE)).toBe(true);
    expect(near(png.at(290, 90), BLUE)).toBe(true);
  });

  it("hide_selectors really hides the elements", async () => {
    const acc = await newAccount("business");
    const shot = await captureOf(acc, `${FIXTURE()}/colors`, { hide_selectors: ["#hide-me", "#box"] });
    const png = await pixels(acc, shot.id);
    expect(near(png.at(350, 50), WHITE)).toBe(true);
    expect(near(png.at(50, 50), WHITE)).toBe(true);
    expect(near(png.at(50, 220), BLUE)).toBe(true); // the rest stays
  });

  it("dark_mode sets prefers-color-scheme: dark", async () => {
    const acc = await newAccount("business");
    const light = await captureOf(acc, `${FIXTURE()}/dark`, { viewport: { width: 400, height: 300 } });
    const dark = await captureOf(acc, `${FIXTURE()}/dark`, { viewport: { width: 400, height: 300 }, dark_mode: true });
    expect(near((await pixels(acc, light.id)).at(300, 250), WHITE)).toBe(true);
    expect(near((await pixels(acc, dark.id)).at(300, 250), BLACK)).toBe(true);
  });

  it("delay_ms waits before the picture", async () => {
    const acc = await newAccount("business");
    const now = await captureOf(acc, `${FIXTURE()}/late-paint`, { viewport: { width: 400, height: 300 } });
    const later = await captureOf(acc, `${FIXTURE()}/late-paint`, {
      viewport: { width: 400, height: 300 },
      delay_ms: 4500,
    });
    expect((await pixels(acc, now.id)).at(200, 150)).toEqual(WHITE);
    expect((await pixels(acc, later.id)).at(200, 150)).toEqual(RED);
  });

  it("wait_for_selector waits for an element that appears later", async () => {
    const acc = await newAccount("business");
    const shot = await captureOf(acc, `${FIXTURE()}/late-element`, {
      wait_for_selector: "#late",
      viewport: { width: 400, height: 400 },
    });
    expect(shot.status, shot.error ?? "").toBe("completed");
    expect(near((await pixels(acc, shot.id)).at(100, 100), RED)).toBe(true);
  });

  it("wait_until networkidle waits for requests made after load", async () => {
    const acc = await newAccount("business");
    const load = await captureOf(acc, `${FIXTURE()}/network-late`, { viewport: { width: 400, height: 300 } });
    const idle = await captureOf(acc, `${FIXTURE()}/network-late`, {
      viewport: { width: 400, height: 300 },
      wait_until: "networkidle",
    });
    expect((await pixels(acc, load.id)).at(200, 150)).toEqual(WHITE);
    expect((await pixels(acc, idle.id)).at(200, 150)).toEqual(RED);
  });

  it("block_ads stops ad scripts", async () => {
    const acc = await newAccount("business");
    const withAds = await captureOf(acc, `${FIXTURE()}/with-ads`, { viewport: { width: 400, height: 300 } });
    const blocked = await captureOf(acc, `${FIXTURE()}/with-ads`, {
      viewport: { width: 400, height: 300 },
      block_ads: true,
    });
    expect(near((await pixels(acc, withAds.id)).at(100, 100), RED)).toBe(true);
    expect(near((await pixels(acc, blocked.id)).at(100, 100), WHITE)).toBe(true);
  });

  it("user_agent, headers and cookies reach the site; custom headers only its own origin", async () => {
    const acc = await newAccount("business");
    const t = crypto.randomUUID();
    const shot = await captureOf(acc, `${FIXTURE()}/echo?t=${t}`, {
      user_agent: "SnapTrackTest/1.0",
      headers: { "X-Snaptrack-Test": "yes" },
      cookies: [{ name: "session", value: "abc123" }],
    });
    expect(shot.status, shot.error ?? "").toBe("completed");
    const log = (await (await fetch(`${FIXTURE()}/__log?t=${t}`)).json()) as {
      path: string;
      headers: Record<string, string>;
    }[];
    const doc = log.find((r) => r.path === "/echo");
    expect(doc?.headers["user-agent"]).toBe("SnapTrackTest/1.0");
    expect(doc?.headers["x-snaptrack-test"]).toBe("yes");
    expect(doc?.headers.cookie).toContain("session=abc123");
    const sub = log.find((r) => r.path === "/red.png");
    expect(sub?.headers["x-snaptrack-test"]).toBe("yes"); // same origin
  });
});
