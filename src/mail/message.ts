/** A message as SnapTrack composes it (src/mail/mail.ts sends it). */
export interface Mail {
  to: string;
  subject: string;
  html: string;
  /** The plain-text part (every message has one: some readers show nothing else). */
  text: string;
  /** Extra headers, e.g. `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058). */
  headers?: Record<string, string>;
  /** Images the HTML shows as `<img src="cid:<contentId>">`. */
  inline?: InlineImage[];
}

export interface InlineImage {
  contentId: string;
  filename: string;
  /** MIME type, e.g. `image/png`. */
  type: string;
  content: Uint8Array;
}

/** A message as the outbox keeps it. */
export interface KeptMail extends Mail {
  from: string;
  /** Whether the binding accepted it, and why not. */
  sent: boolean;
  error: string | null;
}
