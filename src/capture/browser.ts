import puppeteer, { type Browser } from "@cloudflare/puppeteer";

/** An idle shared browser closes itself after this long (Browser Rendering's keep_alive). */
export const KEEP_ALIVE_MS = 10 * 60_000;

/**
 * The session this isolate last disconnected from. Only a hint for reuse — connecting
 * tells whether it is still alive and free. (Locally, miniflare keeps reporting a
 * session as connected after a disconnect, so `sessions()` alone never finds one free.)
 */
let lastSessionId: string | undefined;

/**
 * A browser for one batch of work: an existing free session when there is one (Browser
 * Rendering allows about one new browser per second), a new keep-alive session otherwise.
 * Hand it back with `releaseBrowser`, which disconnects and leaves it running for the next.
 */
export async function acquireBrowser(endpoint: Fetcher): Promise<Browser> {
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
  return puppeteer.launch(endpoint, { keep_alive: KEEP_ALIVE_MS });
}

/** Disconnect (never close) so the session stays warm for the next batch. */
export function releaseBrowser(browser: Browser): void {
  if (browser.connected) {
    lastSessionId = browser.sessionId();
    browser.disconnect().catch(() => {});
  } else if (lastSessionId === browser.sessionId()) {
    lastSessionId = undefined;
  }
}
