import puppeteer, { type Browser } from "@cloudflare/puppeteer";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Pages a batch's browser works on at once (default {@link BROWSER_PAGES}); the benchmark sets 1 for its sequential run. */
      BROWSER_PAGES?: string;
    }
  }
}

/** Pages open at once in a batch's one browser (captures and scenario runs). */
export const BROWSER_PAGES = 4;
const MAX_BROWSER_PAGES = 10;

/** `BROWSER_PAGES`, default {@link BROWSER_PAGES}. */
export function browserPages(env: Env): number {
  const raw = env.BROWSER_PAGES;
  if (raw === undefined || raw === "") return BROWSER_PAGES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_BROWSER_PAGES) {
    throw new Error(`BROWSER_PAGES must be an integer from 1 to ${MAX_BROWSER_PAGES}, not ${JSON.stringify(raw)}`);
  }
  return n;
}

/** An idle shared browser closes itself after this long (Browser Rendering's keep_alive, its maximum). */
export const KEEP_ALIVE_MS = 10 * 60_000;

/**
 * How long an idle browser is kept for the next batch: `BROWSER_KEEP_ALIVE_MS`, default
 * {@link KEEP_ALIVE_MS}. `npm start` sets 0 (see {@link acquireBrowser}).
 */
export function browserKeepAlive(env: Env): number {
  const raw = env.BROWSER_KEEP_ALIVE_MS;
  if (raw === undefined || raw === "") return KEEP_ALIVE_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > KEEP_ALIVE_MS) {
    throw new Error(`BROWSER_KEEP_ALIVE_MS must be an integer from 0 to ${KEEP_ALIVE_MS}, not ${JSON.stringify(raw)}`);
  }
  return ms;
}

/**
 * A browser for one batch of work. Hand it back with `releaseBrowser`.
 *
 * With a keep-alive (deployed): an existing free session when there is one (Browser
 * Rendering allows about one new browser per second), a new keep-alive session otherwise;
 * releasing disconnects and leaves it running for the next batch.
 *
 * With keep-alive 0 (`npm start`): one browser at a time, closed as soon as no batch needs
 * it. Locally miniflare never closes an idle browser (keep_alive is not emulated), and it
 * forgets a session once the object holding it is evicted (about a minute without
 * requests) or the Worker reloads: the session can then be neither reused nor closed, and
 * its Chrome runs until `npm start` stops. Keeping nothing idle is the only way none is
 * left behind. A batch that finds the browser in use waits for it (up to
 * {@link LOCAL_WAIT_MS}) and is handed the same session, and so is the next batch when jobs
 * were sent while this one ran ({@link expectBrowserJobs}: the queue delivers without a
 * batch wait, one batch after another), so a burst still uses one browser.
 */
export async function acquireBrowser(endpoint: Fetcher, keepAliveMs = KEEP_ALIVE_MS): Promise<Browser> {
  return keepAliveMs === 0 ? acquireLocal(endpoint) : acquireKept(endpoint, keepAliveMs);
}

/** Disconnect (keep-alive) or hand over / close (keep-alive 0). Never throws. */
export async function releaseBrowser(browser: Browser): Promise<void> {
  if (holders.has(browser)) return releaseLocal(browser);
  if (browser.connected) {
    lastSessionId = browser.sessionId();
    await browser.disconnect().catch(() => {});
  } else if (lastSessionId === browser.sessionId()) {
    lastSessionId = undefined;
  }
  // Free now: a batch waiting for it connects.
  finishing.delete(browser);
}

// --- keep-alive sessions (deployed) ---

/**
 * The session this isolate last disconnected from. Only a hint for reuse — connecting
 * tells whether it is still alive and free. (Locally, miniflare keeps reporting a
 * session as connected after a disconnect, so `sessions()` alone never finds one free.)
 */
let lastSessionId: string | undefined;

/**
 * Batches of this isolate whose browser work is ending (every job started). A batch that
 * starts meanwhile waits for that browser (up to {@link KEPT_WAIT_MS}) instead of paying a
 * launch: a steady stream keeps one warm browser.
 */
const finishing = new Set<Browser>();
const KEPT_WAIT_MS = 5_000;

/** The batch holding `browser` has started its last job: the next batch may wait for it. */
export function browserWorkEnding(browser: Browser): void {
  if (!holders.has(browser)) finishing.add(browser);
}

async function acquireKept(endpoint: Fetcher, keepAliveMs: number): Promise<Browser> {
  const deadline = Date.now() + KEPT_WAIT_MS;
  // Polled from this batch's own request (no promise resolved across requests).
  while (finishing.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  const candidates: string[] = [];
  if (lastSessionId) candidates.push(lastSessionId);
  try {
    for (const s of await puppeteer.sessions(endpoint)) {
      if (!s.connectionId && !candidates.includes(s.sessionId)) candidates.push(s.sessionId);
    }
  } catch {
    // Listing is an optimisation; launching still works.
  }
  for (const sessionId of candidates) {
    try {
      return await puppeteer.connect(endpoint, sessionId);
    } catch {
      if (sessionId === lastSessionId) lastSessionId = undefined;
    }
  }
  return puppeteer.launch(endpoint, { keep_alive: keepAliveMs });
}

// --- one browser, closed when idle (keep-alive 0, local) ---

/** A batch waits this long for the local browser, then takes it over with a browser of its own. */
export const LOCAL_WAIT_MS = 60_000;

/**
 * The batch holding the local browser, the session it handed over, how many batches wait
 * for it, and how many browser jobs were sent and not yet delivered.
 */
const local: {
  holder?: object;
  handover?: string;
  waiting: number;
  expected: number;
  expectedUntil: number;
  closedAt: number;
} = { waiting: 0, expected: 0, expectedUntil: 0, closedAt: 0 };

/** How long a launch waits after the last close (see {@link acquireLocal}). */
const LOCAL_CLOSE_SETTLE_MS = 1_500;

/** Jobs sent this long ago and still not delivered are not waited for (a lost count keeps nothing open). */
const EXPECTED_FOR_MS = 10_000;
const expecting = () => local.expected > 0 && Date.now() < local.expectedUntil;

/**
 * Browser jobs (captures, runs) were sent to the queue. Locally the queue delivers one batch
 * after another, so a batch that ends while jobs are on their way hands its browser to the
 * next one instead of closing it (and the next launching another while it still exits).
 * Only a hint: a wrong count costs a launch, or keeps an idle browser until the next batch.
 * Call it before sending (the queue may deliver at once), and with -1 if sending failed.
 */
export function expectBrowserJobs(count: number): void {
  local.expected = Math.max(0, local.expected + count);
  if (count > 0) local.expectedUntil = Date.now() + EXPECTED_FOR_MS;
}

/** Browser jobs were delivered (see {@link expectBrowserJobs}). */
export function browserJobsArrived(count: number): void {
  expectBrowserJobs(-count);
}

/**
 * Locally (keep-alive 0), after a batch: closes a browser handed over for jobs that turned
 * out to need none (finished already, or never sent). Never throws.
 */
export async function closeIdleBrowser(endpoint: Fetcher): Promise<void> {
  const sessionId = local.handover;
  if (!sessionId || local.holder || local.waiting > 0 || expecting()) return;
  const token = {};
  local.holder = token;
  local.handover = undefined;
  try {
    await (await puppeteer.connect(endpoint, sessionId)).close();
    local.closedAt = Date.now();
  } catch {
    // Gone already.
  } finally {
    if (local.holder === token) local.holder = undefined;
  }
}
/** Which batch (token) a local browser was given to. */
const holders = new WeakMap<Browser, object>();

async function acquireLocal(endpoint: Fetcher): Promise<Browser> {
  if (local.holder) {
    local.waiting++;
    try {
      const deadline = Date.now() + LOCAL_WAIT_MS;
      // Polled from this batch's own request (no promise resolved across requests).
      while (local.holder && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    } finally {
      local.waiting--;
    }
  }
  // Still held after the wait: the holder is stuck or gone; this batch takes over with a new
  // browser, and the old holder closes its own when (if ever) it releases.
  const token = {};
  const sessionId = local.holder ? undefined : local.handover;
  local.holder = token;
  local.handover = undefined;
  try {
    let browser: Browser | undefined;
    if (sessionId) browser = await puppeteer.connect(endpoint, sessionId).catch(() => undefined);
    if (!browser) {
      // A browser closed a moment ago may still be exiting (miniflare answers the close
      // before Chrome has gone): give it that moment, so two never run at once.
      const settle = local.closedAt + LOCAL_CLOSE_SETTLE_MS - Date.now();
      if (settle > 0) await new Promise((r) => setTimeout(r, settle));
      browser = await puppeteer.launch(endpoint);
    }
    holders.set(browser, token);
    return browser;
  } catch (err) {
    if (local.holder === token) local.holder = undefined;
    throw err;
  }
}

async function releaseLocal(browser: Browser): Promise<void> {
  const token = holders.get(browser);
  holders.delete(browser);
  const mine = local.holder === token;
  if (mine && (local.waiting > 0 || expecting()) && browser.connected) {
    await browser.disconnect().catch(() => {});
    local.handover = browser.sessionId();
  } else {
    // Cleared only once Chrome is gone, so the next batch never overlaps it.
    await browser.close().catch(() => {});
    local.closedAt = Date.now();
  }
  if (mine) local.holder = undefined;
}
