import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { compose } from "../../src/mail/compose";
import { type MailEnv, sendMail } from "../../src/mail/mail";
import { getOutboxMail, inlineImages, listOutbox, OUTBOX_KEEP } from "../../src/mail/outbox";
import { accountObject, inAccount, newAccount } from "../helpers";
import { addMember, get, pagesWith } from "../page-helpers";

const page = (path: string, cookie: string) => get(cookie, path);

const PIXEL = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

describe("the mail path (src/mail)", () => {
  it("sends through the EMAIL binding and, locally, keeps the message in the account's outbox as sent", async () => {
    const acc = await newAccount("free");
    const mail = compose({
      to: "reader@example.com",
      subject: "A <test> message",
      lines: ["Hello & welcome."],
      action: { label: "Open it", href: "https://snaptrack.test/x?a=1&b=2" },
      footer: ["You get this because a test sent it."],
      extraHtml: '<img src="cid:diff" alt="diff">',
      headers: { "List-Unsubscribe": "<https://snaptrack.test/u>" },
    });
    const result = await inAccount(acc.id, (db) =>
      sendMail(env, db, {
        ...mail,
        inline: [{ contentId: "diff", filename: "diff.png", type: "image/png", content: PIXEL }],
      }),
    );
    expect(result).toMatchObject({ sent: true, error: null });
    expect(result.messageId).toBeTruthy();
    const [kept] = await inAccount(acc.id, (db) => listOutbox(db));
    expect(kept).toMatchObject({
      to: "reader@example.com",
      subject: "A <test> message",
      sent: true,
      from: env.MAIL_FROM,
    });
    // Escaped in the HTML, as it is in the text part.
    expect(kept?.html).toContain("A &lt;test&gt; message");
    expect(kept?.html).toContain("Hello &amp; welcome.");
    expect(kept?.text).toContain("Open it: https://snaptrack.test/x?a=1&b=2");
    expect(inlineImages(kept as NonNullable<typeof kept>)[0]?.content).toEqual(PIXEL);

    // The owner reads it under Settings → Outbox; its HTML frame has a policy of its own
    // (inline styles apply, nothing runs or loads) and shows the inline image as data.
    const list = await page("/app/settings/outbox", acc.cookie);
    expect(list.status).toBe(200);
    expect(await list.text()).toContain("A &lt;test&gt; message");
    const view = await page(`/app/settings/outbox/${kept?.id}`, acc.cookie);
    const viewHtml = await view.text();
    expect(viewHtml).toContain('sandbox="allow-popups');
    expect(viewHtml).toContain("Open it: https://snaptrack.test/x?a=1&amp;b=2");
    const frame = await page(`/app/settings/outbox/${kept?.id}/html`, acc.cookie);
    const csp = frame.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).toContain("sandbox");
    expect(frame.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(await frame.text()).toContain('src="data:image/png;base64,iVBORwECAw=="');
  });

  it("a message the binding refuses is not thrown: it is reported, logged and kept as not sent", async () => {
    const acc = await newAccount("free");
    const refusing: MailEnv = {
      ...env,
      EMAIL: {
        send: async () => {
          throw new Error("email to nobody@example.com not allowed");
        },
      } as unknown as SendEmail,
    };
    const result = await inAccount(acc.id, (db) =>
      sendMail(refusing, db, { to: "nobody@example.com", subject: "Refused", html: "<p>x</p>", text: "x" }),
    );
    expect(result).toEqual({ sent: false, messageId: null, error: "email to nobody@example.com not allowed" });
    const [kept] = await inAccount(acc.id, (db) => listOutbox(db));
    expect(kept).toMatchObject({ subject: "Refused", sent: false, error: "email to nobody@example.com not allowed" });
  });

  it("the Worker keeps its messages through the account's object; without MAIL_OUTBOX nothing is kept", async () => {
    const acc = await newAccount("free");
    const stub = accountObject(acc.id);
    const mail = { to: "a@example.com", subject: "From the Worker", html: "<p>hi</p>", text: "hi" };
    await sendMail(env, { keep: (kept) => stub.keepMail(acc.id, kept, Date.now()) }, mail);
    await sendMail(
      { ...env, MAIL_OUTBOX: undefined },
      { keep: (kept) => stub.keepMail(acc.id, kept, Date.now()) },
      {
        ...mail,
        subject: "Deployed",
      },
    );
    const kept = await inAccount(acc.id, (db) => listOutbox(db));
    expect(kept.map((m) => m.subject)).toEqual(["From the Worker"]);
    await expect(inAccount(acc.id, (db) => getOutboxMail(db, "mail_missing"))).rejects.toThrow(/not found/);
  });

  it("keeps only the newest messages", async () => {
    const acc = await newAccount("free");
    await inAccount(acc.id, async (db) => {
      for (let i = 0; i < OUTBOX_KEEP + 3; i++) {
        await sendMail(env, db, { to: "a@example.com", subject: `n${i}`, html: "", text: "" }, 1_700_000_000_000 + i);
      }
    });
    const kept = await inAccount(acc.id, (db) => listOutbox(db, OUTBOX_KEEP + 10));
    expect(kept.length).toBe(OUTBOX_KEEP);
    expect(kept[0]?.subject).toBe(`n${OUTBOX_KEEP + 2}`);
    expect(kept.at(-1)?.subject).toBe("n3");
  });

  it("the outbox is the owners' and exists only locally", async () => {
    const owner = await newAccount("starter");
    const member = await addMember(owner);
    expect(await (await get(owner.cookie, "/app")).text()).toContain('href="/app/settings/outbox"');
    expect((await get(member.cookie, "/app/settings/outbox")).status).toBe(403);
    expect(await (await get(member.cookie, "/app")).text()).not.toContain('href="/app/settings/outbox"');
    // Deployed (no MAIL_OUTBOX) there is no outbox: the page is a 404 and no link leads to it.
    const deployed = pagesWith({ MAIL_OUTBOX: undefined });
    expect((await get(owner.cookie, "/app/settings/outbox", deployed)).status).toBe(404);
    expect(await (await get(owner.cookie, "/app", deployed)).text()).not.toContain("/app/settings/outbox");
  });
});
