import { createExecutionContext, createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkUrl, checkUrlSyntax, staticResolver } from "../../src/capture/url-guard";
import { screenshots } from "../../src/db/schema";
import { handleQueue } from "../../src/jobs/consumer";
import type { JobMessage } from "../../src/queue/messages";
import { screenshotRow } from "../../src/services/screenshots";
import {
  accountSql,
  appWith,
  call,
  captureOf,
  createWebsite,
  downloadBytes,
  expectError,
  FIXTURE,
  INTERNAL,
  inAccount,
  jsonInit,
  newAccount,
} from "../helpers";
import { decodePng, GREEN, near, RED } from "../png";

const strict = { allow: [] };

describe("URL guard (loopback not allowed)", () => {
  it.each([
    "http://127.0.0.1/",
    "http://127.1.2.3:8080/x",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://app.localhost/",
    "http://printer.local/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://intranet/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://198.18.0.1/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[ff02::1]/",
    "http://user:pass@example.com/",
    "ftp://example.com/",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "not a url",
  ])("refuses %s", (url) => {
    expect(checkUrlSyntax(url, strict).ok).toBe(false);
  });

  it.each([
    "https://example.com/",
    "http://93.184.216.34/",
    "http://[2606:4700:4700::1111]/",
    "http://172.32.0.1/",
    "http://100.128.0.1/",
    "http://11.0.0.1/",
  ])("allows %s", (url) => {
    expect(checkUrlSyntax(url, strict).ok).toBe(true);
  });

  it("refuses names whose DNS answers include a private address", async () => {
    const resolver = staticResolver({
      "internal.test": ["127.0.0.2"],
      "mixed.test": ["93.184.216.34", "10.0.0.1"],
      "v6.test": ["fd00::1"],
      "mapped.test": ["::ffff:169.254.169.254"],
      "public.test": ["93.184.216.34", "2606:4700::1"],
    });
    const policy = { allow: [], resolver };
    for (const host of ["internal.test", "mixed.test", "v6.test", "mapped.test"]) {
      const verdict = await checkUrl(`http://${host}/`, policy, "capturing");
      expect(verdict, host).toEqual({ ok: false, reason: "Host resolves to a private or reserved address" });
    }
    expect((await checkUrl("http://public.test/", policy, "capturing")).ok).toBe(true);
    // A resolver failure refuses a capture but not storing the URL.
    expect((await checkUrl("http://unknown.test/", policy, "capturing")).ok).toBe(false);
    expect((await checkUrl("http://unknown.test/", policy, "storing")).ok).toBe(true);
  });

  it("lets only the allowlisted host:port through", () => {
    const policy = { allow: ["127.0.0.1:8787"] };
    expect(checkUrlSyntax("http://127.0.0.1:8787/x", policy).ok).toBe(true);
    expect(checkUrlSyntax("http://127.0.0.1:8788/x", policy).ok).toBe(false);
    expect(checkUrlSyntax("http://127.0.0.2:8787/x", policy).ok).toBe(false);
  });
});

describe("SSRF guard through the API and the browser", () => {
  it("refuses private URLs when a website is stored or changed", async () => {
    const acc = await newAccount("pro");
    const strictApi = appWith({}, { ALLOW_PRIVATE_TARGETS: "" });
    const err = await expectError(
      await strictApi("/v1/websites", jsonInit("POST", { name: "x", url: `${FIXTURE()}/` }, acc.auth)),
      422,
      "validation_failed",
    );
    expect(err.errors).toEqual({ url: ["Must not point to a private or reserved address"] });
    const port = new URL(FIXTURE()).port;
    const dns = await expectError(
      await call("/v1/websites", jsonInit("POST", { name: "x", url: `http://internal.test:${port}/` }, acc.auth)),
      422,
      "validation_failed",
    );
    expect(dns.errors).toEqual({ url: ["Host resolves to a private or reserved address"] });
    const site = await createWebsite(acc, "https://example.com/");
    const patch = await expectError(
      await call(`/v1/websites/${site.id}`, jsonInit("PATCH", { url: "http://169.254.169.254/" }, acc.auth)),
      422,
      "validation_failed",
    );
    expect(patch.errors).toHaveProperty("url");
  });

  it("blocks a redirect to an internal host", async () => {
    const acc = await newAccount("business");
    const internal = `${INTERNAL()}/colors`;
    const shot = await captureOf(acc, `${FIXTURE()}/redirect?to=${encodeURIComponent(internal)}`);
    expect(shot.status).toBe("failed");
    expect(shot.error).toBe(`Blocked ${internal}: Must not point to a private or reserved address`);
    const metadata = await captureOf(
      acc,
      `${FIXTURE()}/redirect?to=${encodeURIComponent("http://169.254.169.254/latest/meta-data/")}`,
    );
    expect(metadata.error).toMatch(/^Blocked http:\/\/169\.254\.169\.254\//);
  });

  it("blocks sub-resources from internal hosts (the page sees the load fail)", async () => {
    const acc = await newAccount("business");
    const blocked = await captureOf(
      acc,
      `${FIXTURE()}/subresource?src=${encodeURIComponent(`${INTERNAL()}/red.png`)}`,
      { viewport: { width: 400, height: 300 } },
    );
    const allowed = await captureOf(acc, `${FIXTURE()}/subresource?src=${encodeURIComponent(`${FIXTURE()}/red.png`)}`, {
      viewport: { width: 400, height: 300 },
    });
    expect(blocked.status).toBe("completed");
    expect(near((await decodePng(await downloadBytes(acc, blocked.id))).at(300, 250), GREEN)).toBe(true);
    expect(near((await decodePng(await downloadBytes(acc, allowed.id))).at(300, 250), RED)).toBe(true);
  });

  it("checks again at capture time: loopback refused where config does not allow it, DNS answers too", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const port = new URL(FIXTURE()).port;
    const rows = await inAccount(acc.id, async (db) => {
      const website = await db.query.websites.findFirst({ where: (w, { eq }) => eq(w.id, site.id) });
      const queued = [
        screenshotRow({ website: website as NonNullable<typeof website>, source: "api" }, Date.now()),
        screenshotRow(
          {
            website: website as NonNullable<typeof website>,
            source: "api",
            url: `http://internal.test:${port}/colors`,
          },
          Date.now(),
        ),
      ];
      await db.insert(screenshots).values(queued);
      return queued;
    });
    const batch = createMessageBatch<JobMessage>(
      "snaptrack-jobs",
      rows.map((r, i) => ({
        id: `m${i}`,
        timestamp: new Date(),
        attempts: 1,
        body: { type: "capture", screenshot_id: r.id, account_id: acc.id },
      })),
    );
    await handleQueue(batch, { ...env, ALLOW_PRIVATE_TARGETS: "" }, createExecutionContext());
    const [loopback] = await accountSql(
      acc.id,
      "SELECT status, error FROM screenshots WHERE id = ?",
      rows[0]?.id ?? "",
    );
    expect(loopback).toEqual({
      status: "failed",
      error: `Blocked ${FIXTURE()}/colors: Must not point to a private or reserved address`,
    });
    const [dns] = await accountSql(acc.id, "SELECT status, error FROM screenshots WHERE id = ?", rows[1]?.id ?? "");
    expect(dns).toEqual({
      status: "failed",
      error: `Blocked http://internal.test:${port}/colors: Host resolves to a private or reserved address`,
    });
  });
});
