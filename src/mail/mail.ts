import type { Db } from "../db/client";
import type { KeptMail, Mail } from "./message";
import { keepMail } from "./outbox";

export type { InlineImage, KeptMail, Mail } from "./message";

/**
 * The one mail path: invitations and password resets now, alerts next. Every message goes
 * through Cloudflare's Email Service binding (`[[send_email]] name = "EMAIL"`); locally
 * (`MAIL_OUTBOX=1`, set by `npm start` and the tests) each one is also kept in the account's
 * outbox, which the dashboard shows under Settings → Outbox and the tests read. Locally
 * nothing leaves the machine: miniflare's binding only logs what it was given.
 */

/** What sending needs from the Worker's environment. */
export interface MailEnv {
  EMAIL: SendEmail;
  /** The sender address (wrangler.toml `[vars]`): a domain onboarded to Email Service. */
  MAIL_FROM: string;
  /** Local only: "1" keeps every message in the account's outbox too. */
  MAIL_OUTBOX?: string;
}

/**
 * Where the account's copy goes: its database (code running in the account's object), or a
 * keeper that hands it there (the Worker: `accountStub(...).keepMail(accountId, mail)`).
 */
export type Outbox = Db | { keep(mail: KeptMail): Promise<unknown> };

export interface MailResult {
  sent: boolean;
  messageId: string | null;
  error: string | null;
}

export const SENDER_NAME = "SnapTrack";

/**
 * Sends one message. A refusal by the binding is not thrown: the caller decides what a
 * message that did not go means (an invitation still has its link; a reset answers 202
 * either way), and the refusal is logged for the operator.
 */
export async function sendMail(env: MailEnv, outbox: Outbox, mail: Mail, now = Date.now()): Promise<MailResult> {
  let result: MailResult;
  try {
    const sent = await env.EMAIL.send({
      from: { name: SENDER_NAME, email: env.MAIL_FROM },
      to: mail.to,
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
      ...(mail.headers ? { headers: mail.headers } : {}),
      ...(mail.inline?.length
        ? {
            attachments: mail.inline.map((image) => ({
              disposition: "inline" as const,
              contentId: image.contentId,
              filename: image.filename,
              type: image.type,
              content: image.content,
            })),
          }
        : {}),
    });
    result = { sent: true, messageId: sent.messageId, error: null };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    console.error(JSON.stringify({ level: "error", msg: "mail not sent", subject: mail.subject, error }));
    result = { sent: false, messageId: null, error };
  }
  if (env.MAIL_OUTBOX === "1") {
    const kept: KeptMail = { ...mail, from: env.MAIL_FROM, sent: result.sent, error: result.error };
    if ("keep" in outbox) await outbox.keep(kept);
    else await keepMail(outbox, kept, now);
  }
  return result;
}
