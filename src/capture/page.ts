import type { Browser, CDPSession, Frame, Page } from "@cloudflare/puppeteer";
import type { Box } from "../compare/rows";
import { base64ToBytes } from "../lib/crypto";
import { isAdRequest } from "./ads";
import { armBrowser, armPage, type Decision, type JobScreen, type Violation, watchJob } from "./containment";
import { freshContext, retireContext } from "./contexts";
import { TargetError } from "./errors";
import { imageSize } from "./image";
import { type CaptureOptions, FIELD_VALUE } from "./options";
import { type Trace, untraced } from "./trace";
import type { GuardPolicy } from "./url-guard";

/** Chromium cannot capture an image taller than this many device pixels. */
export const MAX_CAPTURE_HEIGHT_PX = 16_384;

export interface GuardedPage {
  page: Page;
  /** Requests the guard refused, with why (first one explains a failed navigation). */
  blocked: { url: string; reason: string }[];
  /** Responses that came from a private or reserved address (see containment.ts). */
  violations: Violation[];
  /** Closes the job's browser context: its pages, cookies, storage and cache go with it. */
  close(): Promise<void>;
  /** The job's own CDP session on its page (armed by containment.ts): pictures and thumbnails go through it. */
  cdp: CDPSession;
  /** Where the job's time goes (see trace.ts). */
  trace: Trace;
}

/**
 * A new page in a fresh browser context of its own (nothing is shared with any other job),
 * configured from capture options, with every channel it can use behind the SSRF guard
 * (containment.ts), whose one browser-wide interception also screens this page's requests
 * as the job says (custom headers, the ad filter) and tells it what was refused (for clear
 * errors). Custom headers go only to the target's own origin, never to third parties.
 */
export async function openPage(
  browser: Browser,
  target: URL,
  opts: CaptureOptions,
  policy: GuardPolicy,
  trace: Trace = untraced,
): Promise<GuardedPage> {
  await trace.span("guard", () => armBrowser(browser, policy));
  const { context, page } = await trace.span("context", () => freshContext(browser));
  const blocked: GuardedPage["blocked"] = [];
  const violations: Violation[] = [];
  const unwatch = watchJob(browser, jobScreen(page, target, opts, blocked));
  // Closed off the job's path; the batch waits for it before it lets the browser go.
  const closeContext = async () => {
    unwatch();
    retireContext(browser, context);
  };
  try {
    // Independent of each other, so sent together: both are done before the first navigation.
    const [cdp] = await Promise.all([
      trace.span("arming", () => armPage(page, context, policy, [target.host], violations)),
      trace.span("viewport and emulation", () => emulate(page, target, opts)),
    ]);
    page.setDefaultTimeout(opts.timeout_ms);
    page.setDefaultNavigationTimeout(opts.timeout_ms);
    return { page, blocked, violations, close: closeContext, cdp, trace };
  } catch (err) {
    await closeContext();
    throw err;
  }
}

/** Viewport, user agent, colour scheme and cookies as the options say. */
async function emulate(page: Page, target: URL, opts: CaptureOptions): Promise<void> {
  await page.setViewport({
    width: opts.viewport.width,
    height: opts.viewport.height,
    deviceScaleFactor: opts.device_scale_factor,
  });
  if (opts.user_agent) await page.setUserAgent(opts.user_agent);
  if (opts.dark_mode) await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
  if (opts.cookies.length > 0) {
    await page.setCookie(
      ...opts.cookies.map((c) => ({
        name: c.name,
        value: c.value,
        ...(c.domain ? { domain: c.domain } : { url: target.origin }),
        path: c.path ?? "/",
        secure: c.secure,
        httpOnly: c.http_only,
        sameSite: c.same_site,
      })),
    );
  }
  for (const [name, value] of Object.entries(opts.headers)) {
    // Chromium would refuse it mid-request, and the page would only time out.
    if (!FIELD_VALUE.test(value))
      throw new TargetError(`The browser refused a capture option (invalid characters): header ${name}`);
  }
}

/** Puppeteer's own session on a page (typed on its CDP page class only). */
const pageClient = (page: Page) => (page as unknown as { _client(): CDPSession })._client();

/** A frame's CDP id (puppeteer keeps it on the frame without typing it). */
const frameId = (frame: Frame) => (frame as unknown as { _id: string })._id;

/**
 * The job's part in the browser-wide interception (containment.ts): requests of this page's
 * frames. The guard has let the request through when `screen` runs; headers are merged by
 * lower-cased name, as the browser would send them.
 */
function jobScreen(page: Page, target: URL, opts: CaptureOptions, blocked: GuardedPage["blocked"]): JobScreen {
  const extra = Object.entries(opts.headers);
  return {
    owns: (id) => page.frames().some((frame) => frameId(frame) === id),
    refused: (url, reason) => {
      blocked.push({ url: clipUrl(url), reason });
    },
    screen(url, headers): Decision {
      if (opts.block_ads && isAdRequest(url)) return { fail: true };
      if (url.origin !== target.origin || extra.length === 0) return { fail: false };
      const merged: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) merged[name.toLowerCase()] = value;
      for (const [name, value] of extra) merged[name.toLowerCase()] = value;
      return { fail: false, headers: merged };
    },
  };
}

const clipUrl = (url: string) => (url.length > 200 ? `${url.slice(0, 199)}…` : url);

/**
 * The second line of the guard: a job whose page got any response from a private or
 * reserved address (a DNS answer that changed after the check, a channel interception
 * does not see) fails, and nothing it made is stored.
 */
export function assertContained(g: GuardedPage): void {
  if (g.violations.length > 0) throw containmentError(g);
}

export function containmentError(g: GuardedPage): TargetError {
  const first = g.violations[0];
  return new TargetError(
    `Blocked ${clipUrl(first?.url ?? "")}: the page received a response from a private or reserved address (${first?.address}); nothing was stored`,
  );
}

// networkidle: no requests in flight for 500 ms (puppeteer's networkidle0).
const WAIT_UNTIL = { load: "load", domcontentloaded: "domcontentloaded", networkidle: "networkidle0" } as const;

/** Navigates and waits as the options say; HTTP errors and blocked targets are the target's fault. */
export async function navigate(g: GuardedPage, url: string, opts: CaptureOptions): Promise<void> {
  let response: Awaited<ReturnType<Page["goto"]>>;
  try {
    response = await g.trace.span("navigation", () =>
      g.page.goto(url, { waitUntil: WAIT_UNTIL[opts.wait_until], timeout: opts.timeout_ms }),
    );
  } catch (err) {
    throw navigationError(g, url, err);
  }
  if (response && response.status() >= 400) {
    throw new TargetError(`The page answered HTTP ${response.status()} ${response.statusText()}`.trim());
  }
  // The headless shell puts a new document's pointer at (0, 0), so whatever sits in the top-left
  // corner would be captured in its :hover state. Park the pointer off the page, as for a visitor
  // whose mouse is elsewhere (a scenario's `hover` step moves it back onto the page).
  await g.cdp.send("Input.dispatchMouseEvent", { type: "mouseMoved", x: -1, y: -1 });
  const selector = opts.wait_for_selector;
  if (selector) {
    try {
      await g.trace.span("waits", () => g.page.waitForSelector(selector, { timeout: opts.timeout_ms }));
    } catch (err) {
      if (isTimeout(err))
        throw new TargetError(
          `wait_for_selector "${opts.wait_for_selector}" did not appear within ${opts.timeout_ms} ms`,
        );
      throw err;
    }
  }
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

/** Chromium's network errors in words (the code stays at the end for whoever searches it). */
const NET_WORDS: [RegExp, (host: string) => string][] = [
  [/ERR_NAME_NOT_RESOLVED|ERR_NAME_RESOLUTION_FAILED/, (h) => `DNS lookup failed: ${h} could not be found`],
  [/ERR_CONNECTION_REFUSED/, (h) => `Connection refused: nothing answers at ${h}`],
  [/ERR_CONNECTION_(TIMED_OUT|CLOSED|RESET)|ERR_TIMED_OUT/, (h) => `The connection to ${h} failed or timed out`],
  [/ERR_CERT_|ERR_SSL_/, (h) => `The TLS certificate of ${h} was refused`],
  [/ERR_ADDRESS_UNREACHABLE|ERR_INTERNET_DISCONNECTED/, (h) => `${h} cannot be reached`],
];

/**
 * Why navigation failed, by kind: the address guard blocked it (`Blocked <url>: <reason>`),
 * the name does not resolve (DNS), it timed out, or the network refused it.
 */
export function navigationError(g: GuardedPage, url: string, err: unknown): Error {
  const message = String((err as Error)?.message ?? err);
  const block = g.blocked[0];
  if (block && /ERR_BLOCKED_BY_CLIENT/.test(message)) {
    // The guard resolves names itself: a name that does not resolve is a DNS failure, not a block.
    if (/could not be resolved|does not resolve/i.test(block.reason))
      return new TargetError(`DNS lookup failed: ${hostOf(block.url)} could not be found (${block.url})`);
    return new TargetError(`Blocked ${block.url}: ${block.reason}`);
  }
  if (isTimeout(err)) return new TargetError(`Timed out: ${url} did not finish loading in time`);
  const net = /net::(ERR_[A-Z_]+)/.exec(message);
  if (net) {
    const words = NET_WORDS.find(([re]) => re.test(net[1] as string));
    return new TargetError(`${words ? words[1](hostOf(url)) : `Navigation to ${url} failed`} (${net[1]})`);
  }
  return err as Error;
}

export const isTimeout = (err: unknown) =>
  (err as Error)?.name === "TimeoutError" || /timeout/i.test(String((err as Error)?.message));

/** A page's visible text as a capture keeps it (text.ts). */
export interface PageText {
  /** The visible text: one line per block, whitespace collapsed, no empty lines. */
  text: string;
  /** The lines of elements matching `ignore_selectors`: left out of the text comparison. */
  ignored: string[];
}

export interface Shot {
  bytes: Uint8Array;
  width: number;
  height: number;
  /** Boxes (image pixels) of the elements asked to be measured, clipped to the image. */
  ignore?: Box[];
  /** A small JPEG of the top of the page for galleries (see `thumbnail`), when one was made. */
  thumb?: Uint8Array;
  /** The page's visible text (text.ts), when it could be read. */
  text?: PageText;
}

export type { Box };

/** Hides, waits, then takes the picture (whole page, viewport or one element); `withThumbAndText` (text.ts) adds the rest. */
export async function shoot(
  g: GuardedPage,
  opts: Pick<CaptureOptions, "format" | "quality" | "full_page" | "selector" | "hide_selectors" | "delay_ms">,
  measure: string[] = [],
): Promise<Shot> {
  if (opts.hide_selectors.length > 0) {
    await g.page.addStyleTag({ content: `${opts.hide_selectors.join(",\n")} { visibility: hidden !important; }` });
  }
  if (opts.delay_ms > 0) await g.trace.span("waits", () => new Promise((r) => setTimeout(r, opts.delay_ms)));
  // The boxes and the page's size in one evaluation, only when either is needed.
  const geometry =
    measure.length > 0 || (opts.full_page && !opts.selector)
      ? await g.trace.span("ignore boxes", () => pageGeometry(g.page, measure, opts))
      : undefined;
  const data = await g.trace.span("screenshot", () => picture(g, opts, geometry));
  const bytes = new Uint8Array(data);
  const size = imageSize(bytes);
  if (!size) throw new Error(`The browser returned an unreadable ${opts.format} image`);
  const shot: Shot = {
    bytes,
    ...size,
    ...(geometry && measure.length > 0 ? { ignore: clipBoxes(geometry.boxes, size) } : {}),
  };
  return shot;
}

/** The picture itself: one element, the whole page or the viewport. */
async function picture(
  g: GuardedPage,
  opts: Pick<CaptureOptions, "format" | "quality" | "full_page" | "selector">,
  geometry: Geometry | undefined,
): Promise<Uint8Array> {
  const encoding = {
    type: opts.format,
    ...(opts.format === "png" ? {} : { quality: opts.quality }),
  } as const;
  if (opts.selector) {
    const element = await g.page.$(opts.selector);
    if (!element) throw new TargetError(`No element matches selector "${opts.selector}"`);
    const box = await element.boundingBox();
    if (!box || box.width === 0 || box.height === 0)
      throw new TargetError(`The element "${opts.selector}" is not visible`);
    return (await element.screenshot(encoding)) as Uint8Array;
  }
  // What page.screenshot sends, without its bring-to-front round trip (each job's page is
  // alone in its context's window), on puppeteer's session: the one whose emulation (viewport,
  // scale factor) the picture must follow.
  const params: Record<string, unknown> = {
    format: opts.format,
    ...(opts.format === "png" ? {} : { quality: opts.quality }),
    captureBeyondViewport: opts.full_page,
  };
  if (opts.full_page && geometry) {
    // Chromium cannot make an image taller than MAX_CAPTURE_HEIGHT_PX: taller pages are clipped, not refused.
    const maxCss = Math.floor(MAX_CAPTURE_HEIGHT_PX / geometry.scale);
    if (geometry.height > maxCss) params.clip = { x: 0, y: 0, width: geometry.width, height: maxCss, scale: 1 };
  }
  const { data } = (await pageClient(g.page).send("Page.captureScreenshot", params)) as { data: string };
  return base64ToBytes(data);
}

interface Geometry {
  boxes: Box[];
  width: number;
  height: number;
  scale: number;
}

/**
 * The page's size (for full-page clipping) and the boxes of every element matching
 * `selectors`, just before the picture is taken, in the image's pixels: document coordinates
 * for a full page, relative to the clipped element for a `selector` capture, the viewport's
 * otherwise; times the device scale factor. A selector the page does not parse matches
 * nothing (the capture is never failed by it).
 */
async function pageGeometry(
  page: Page,
  selectors: string[],
  opts: Pick<CaptureOptions, "full_page" | "selector">,
): Promise<Geometry> {
  return (await page.evaluate(`(() => {
    const selectors = ${JSON.stringify(selectors)}, clip = ${JSON.stringify(opts.selector ?? null)};
    const scale = window.devicePixelRatio || 1;
    const d = document.documentElement, b = document.body;
    let ox = ${opts.full_page ? "window.scrollX" : "0"}, oy = ${opts.full_page ? "window.scrollY" : "0"};
    if (clip) { const c = document.querySelector(clip); if (c) { const r = c.getBoundingClientRect(); ox = -r.left; oy = -r.top; } }
    const boxes = [];
    for (const s of selectors) {
      let found = [];
      try { found = document.querySelectorAll(s); } catch { continue; }
      for (const el of found) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        const x = Math.floor((r.left + ox) * scale), y = Math.floor((r.top + oy) * scale);
        boxes.push({ x, y, width: Math.ceil((r.right + ox) * scale) - x, height: Math.ceil((r.bottom + oy) * scale) - y });
      }
    }
    return { boxes: boxes.slice(0, 200), scale, width: Math.max(d.clientWidth, 1),
      height: Math.max(d.scrollHeight, b ? b.scrollHeight : 0, d.clientHeight) };
  })()`)) as Geometry;
}

function clipBoxes(boxes: Box[], size: { width: number; height: number }): Box[] {
  const out: Box[] = [];
  for (const b of boxes) {
    const x = Math.max(0, b.x);
    const y = Math.max(0, b.y);
    const width = Math.min(size.width, b.x + b.width) - x;
    const height = Math.min(size.height, b.y + b.height) - y;
    if (width > 0 && height > 0) out.push({ x, y, width, height });
  }
  return out;
}

/** Rejects with a TargetError when `work` outlives `ms`. */
export async function withDeadline<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TargetError(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Gallery thumbnails: at most this many pixels wide and high (16:10), JPEG at this quality (about 10–30 KB). */
export const THUMB_WIDTH = 320;
export const THUMB_HEIGHT = 200;
export const THUMB_QUALITY = 60;

interface LayoutMetrics {
  cssVisualViewport: { pageX: number; pageY: number };
}

/**
 * A thumbnail of the top of the page as it is now (after the capture, so hidden elements
 * stay hidden): the visible viewport, scaled by the browser to fit THUMB_WIDTH × THUMB_HEIGHT
 * and JPEG-encoded, on puppeteer's session (whose emulation the picture follows). The clip
 * is in the page's coordinates, so it starts where the page is scrolled to; without
 * `captureBeyondViewport` nothing is laid out again. (A screencast frame, used before, cost
 * the browser's compositor ~30 ms of CPU a shot more: it read back two frames.) A failure
 * leaves the screenshot without one (pages show a placeholder).
 */
export function thumbnail(g: GuardedPage): Promise<Uint8Array | undefined> {
  return g.trace.span("thumbnail", () => scaledViewport(g));
}

async function scaledViewport(g: GuardedPage): Promise<Uint8Array | undefined> {
  const viewport = g.page.viewport();
  if (!viewport) return undefined;
  const client = pageClient(g.page);
  try {
    const { cssVisualViewport: at } = (await client.send("Page.getLayoutMetrics")) as LayoutMetrics;
    const dpr = viewport.deviceScaleFactor ?? 1;
    const scale = Math.min(THUMB_WIDTH / (viewport.width * dpr), THUMB_HEIGHT / (viewport.height * dpr));
    const { data } = (await client.send("Page.captureScreenshot", {
      format: "jpeg",
      quality: THUMB_QUALITY,
      clip: { x: at.pageX, y: at.pageY, width: viewport.width, height: viewport.height, scale },
      captureBeyondViewport: false,
    })) as { data: string };
    return base64ToBytes(data);
  } catch {
    return undefined;
  }
}
