import type { Browser, BrowserContext, CDPSession, Page } from "@cloudflare/puppeteer";
import { checkUrl, type GuardPolicy, isAllowedAddress, isPrivateAddress } from "./url-guard";

/**
 * What keeps a page inside the SSRF guard on every channel it can use, beyond the
 * page-level request interception in `page.ts`:
 *
 * - Browser-wide request interception (the connection's browser session): every request of
 *   every target — popups, shared and service workers included — passes the guard. Service
 *   worker scripts are refused, so no page installs a worker that outlives its job.
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

/**
 * Turns on the browser-wide guard for this connection (once; it ends with the connection).
 * Every request of every target is paused and checked; data: and blob: need no network.
 */
export async function armBrowser(browser: Browser, policy: GuardPolicy): Promise<void> {
  if (armedBrowsers.has(browser)) return;
  const session = await browser.target().createCDPSession();
  session.on("Fetch.requestPaused", (event: FetchRequestPaused) => {
    decide(event, policy).then(
      (ok) =>
        session
          .send(
            ok ? "Fetch.continueRequest" : "Fetch.failRequest",
            ok ? { requestId: event.requestId } : { requestId: event.requestId, errorReason: "BlockedByClient" },
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
  request: { url: string; headers: Record<string, string> };
}

async function decide(event: FetchRequestPaused, policy: GuardPolicy): Promise<boolean> {
  const raw = event.request.url;
  const scheme = raw.slice(0, raw.indexOf(":") + 1).toLowerCase();
  if (scheme === "data:" || scheme === "blob:") return true;
  for (const [name, value] of Object.entries(event.request.headers)) {
    if (name.toLowerCase() === "service-worker" && value === "script") return false;
  }
  return (await checkUrl(raw, policy, "capturing")).ok;
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
 * way, response addresses checked, popups closed. Call before the first navigation.
 */
export async function armPage(
  page: Page,
  context: BrowserContext,
  policy: GuardPolicy,
  allowedHosts: string[],
  violations: Violation[],
): Promise<void> {
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
  await arm(await page.createCDPSession(), "page");
}
