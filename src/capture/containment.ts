import type { Browser, BrowserContext, CDPSession, Page } from "@cloudflare/puppeteer";
import { checkUrl, type GuardPolicy, isAllowedAddress, isPrivateAddress } from "./url-guard";

/**
 * What keeps a page inside the SSRF guard on every channel it can use:
 *
 * - Browser-wide request interception (the connection's browser session): every request of
 *   every target — popups, shared and service workers included — passes the guard, once; a
 *   request of a job's own page is then screened by that job (`watchJob`: the ad filter,
 *   custom headers, the reason a request was refused). Service worker scripts are refused,
 *   so no page installs a worker that outlives its job.
 * - Every target the page spawns (frames in other processes, dedicated workers, nested
 *   workers) is attached paused, given the same treatment, then resumed.
 * - A script that runs before any page script, in every frame and worker: WebSocket only to
 *   the hosts the guard approved for the job, and no WebRTC, WebTransport, SharedWorker,
 *   service-worker registration or `window.open` (none reachable by request interception).
 * - Popups (new page targets in the job's context) are closed.
 * - The second line: every response's remote address (CDP reports it) is checked; a private
 *   or reserved one the allowlist does not name is a violation, and the job stores nothing.
 *   This also catches a host name whose DNS answer changed between the guard and the browser.
 */

/** Runs in every frame and worker of a job before its own scripts. */
export function pageGuardScript(allowedHosts: string[]): string {
  return `(() => {
  const g = globalThis;
  const allowed = ${JSON.stringify(allowedHosts)};
  const lock = (o, k, v) => { try { Object.defineProperty(o, k, { value: v, writable: false, configurable: false }); } catch {} };
  const refuse = (what) => { throw new DOMException(what + " is not available during a SnapTrack capture", "SecurityError"); };
  const WS = g.WebSocket;
  if (WS && !WS.__snaptrack) {
    const Guarded = new Proxy(WS, {
      construct(target, args) {
        let url;
        try { url = new URL(String(args[0]), g.location && g.location.href); } catch { throw new SyntaxError("Invalid WebSocket URL"); }
        if (!allowed.includes(url.host)) refuse("A WebSocket to " + url.host);
        return Reflect.construct(target, args);
      },
    });
    lock(Guarded, "__snaptrack", true);
    lock(WS.prototype, "constructor", Guarded);
    lock(g, "WebSocket", Guarded);
  }
  for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection", "RTCDataChannel", "RTCIceTransport", "WebTransport", "SharedWorker"]) {
    if (name in g) lock(g, name, undefined);
  }
  if (g.navigator && "serviceWorker" in g.navigator) {
    try { Object.defineProperty(Object.getPrototypeOf(g.navigator), "serviceWorker", { get: () => undefined, configurable: false }); } catch {}
  }
  if (g.document && typeof g.open === "function") lock(g, "open", () => null);
})();`;
}

/** Browsers (connections) whose browser-wide guard is on. */
const armedBrowsers = new WeakSet<Browser>();

/** What a request is answered with: refused, let through, or let through with these headers. */
export type Decision = { fail: true } | { fail: false; headers?: Record<string, string> };
const CONTINUE: Decision = { fail: false };
const FAIL: Decision = { fail: true };

/**
 * One job's part in the browser-wide interception, for requests of its own page's frames:
 * it is told what the guard refused (for a clear error) and screens what the guard let
 * through (the ad filter, custom headers). Requests no job owns (workers, other targets)
 * get the guard alone.
 */
export interface JobScreen {
  /** Whether `frameId` is a frame of this job's page. */
  owns(frameId: string): boolean;
  refused(url: string, reason: string): void;
  screen(url: URL, headers: Record<string, string>): Decision;
}

/** The jobs open in each connection, for the browser-wide handler to find a request's job. */
const screens = new WeakMap<Browser, Set<JobScreen>>();

/** Adds a job's screen to the browser-wide interception; the function returned removes it. */
export function watchJob(browser: Browser, job: JobScreen): () => void {
  const set = screens.get(browser) ?? new Set<JobScreen>();
  screens.set(browser, set);
  set.add(job);
  return () => set.delete(job);
}

/**
 * Turns on the browser-wide guard for this connection (once; it ends with the connection).
 * Every request of every target is paused here, once: checked by the guard, then screened
 * by the job whose page made it. data: and blob: need no network, but only http and https
 * are navigated to.
 */
export async function armBrowser(browser: Browser, policy: GuardPolicy): Promise<void> {
  if (armedBrowsers.has(browser)) return;
  const session = await browser.target().createCDPSession();
  session.on("Fetch.requestPaused", (event: FetchRequestPaused) => {
    let job: JobScreen | undefined;
    if (event.frameId) {
      for (const candidate of screens.get(browser) ?? []) {
        if (candidate.owns(event.frameId)) {
          job = candidate;
          break;
        }
      }
    }
    decide(event, policy, job).then(
      (d) =>
        session
          .send(
            d.fail ? "Fetch.failRequest" : "Fetch.continueRequest",
            d.fail
              ? { requestId: event.requestId, errorReason: "BlockedByClient" }
              : d.headers
                ? {
                    requestId: event.requestId,
                    headers: Object.entries(d.headers).map(([name, value]) => ({ name, value })),
                  }
                : { requestId: event.requestId },
          )
          .catch(() => {}),
      () => session.send("Fetch.failRequest", { requestId: event.requestId, errorReason: "BlockedByClient" }),
    );
  });
  await session.send("Fetch.enable", { patterns: [{ urlPattern: "*" }] });
  armedBrowsers.add(browser);
}

interface FetchRequestPaused {
  requestId: string;
  frameId?: string;
  resourceType?: string;
  request: { url: string; headers: Record<string, string> };
}

async function decide(event: FetchRequestPaused, policy: GuardPolicy, job: JobScreen | undefined): Promise<Decision> {
  const raw = event.request.url;
  const scheme = raw.slice(0, raw.indexOf(":") + 1).toLowerCase();
  if (scheme === "data:" || scheme === "blob:") {
    if (event.resourceType !== "Document") return CONTINUE;
    job?.refused(raw, "Only http and https pages can be opened");
    return FAIL;
  }
  for (const [name, value] of Object.entries(event.request.headers)) {
    if (name.toLowerCase() === "service-worker" && value === "script") return FAIL;
  }
  const verdict = await checkUrl(raw, policy, "capturing");
  if (!verdict.ok) {
    job?.refused(raw, verdict.reason);
    return FAIL;
  }
  return job ? job.screen(verdict.url, event.request.headers) : CONTINUE;
}

/** A response from an address the guard would have refused. */
export interface Violation {
  url: string;
  address: string;
}

interface ResponseReceived {
  response: { url: string; remoteIPAddress?: string; remotePort?: number };
}

interface AttachedToTarget {
  sessionId: string;
  targetInfo: { type: string; url: string };
}

/**
 * Arms one job's page: the guard script, child targets attached paused and armed the same
 * way, response addresses checked, popups closed. Call before the first navigation. Returns
 * the page's armed session, for the job's own commands.
 */
export async function armPage(
  page: Page,
  context: BrowserContext,
  policy: GuardPolicy,
  allowedHosts: string[],
  violations: Violation[],
): Promise<CDPSession> {
  const script = pageGuardScript(allowedHosts);
  const own = page.target();
  context.on("targetcreated", (target) => {
    if (target === own || target.type() !== "page") return;
    target
      .page()
      .then((popup) => popup?.close())
      .catch(() => {});
  });

  const arm = async (session: CDPSession, type: string): Promise<void> => {
    session.on("Network.responseReceived", (event: ResponseReceived) => {
      const ip = event.response.remoteIPAddress;
      if (!ip) return;
      if (isPrivateAddress(ip) && !isAllowedAddress(ip, event.response.remotePort, policy)) {
        violations.push({ url: event.response.url, address: ip });
      }
    });
    session.on("Target.attachedToTarget", (event: AttachedToTarget) => {
      const child = session.connection()?.session(event.sessionId);
      if (!child) return;
      arm(child, event.targetInfo.type)
        .catch(() => {})
        .finally(() => child.send("Runtime.runIfWaitingForDebugger").catch(() => {}));
    });
    const steps: Promise<unknown>[] = [
      session.send("Network.enable"),
      session.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: true }),
    ];
    if (type === "page" || type === "iframe") {
      steps.push(
        session
          .send("Page.enable")
          .then(() => session.send("Page.addScriptToEvaluateOnNewDocument", { source: script, runImmediately: true })),
      );
    } else {
      steps.push(session.send("Runtime.evaluate", { expression: script }));
    }
    // Settled, not all: a child resumes only after every step had its chance.
    const results = await Promise.allSettled(steps);
    const failed = results.find((r) => r.status === "rejected");
    if (failed && type === "page") throw (failed as PromiseRejectedResult).reason;
  };
  const session = await page.createCDPSession();
  await arm(session, "page");
  return session;
}
