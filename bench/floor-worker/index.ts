// The floor for `npm run bench capture`: what a bare Worker gets from the Browser binding with
// the naive loop (new page, viewport, goto, screenshot, close), with nothing around it.
import puppeteer, { type Browser } from "@cloudflare/puppeteer";

const VIEWPORT = { width: 1280, height: 800 };

async function once(browser: Browser, url: string): Promise<void> {
  const page = await browser.newPage();
  await page.setViewport(VIEWPORT);
  await page.goto(url, { waitUntil: "load" });
  await page.screenshot({ type: "png" });
  await page.close();
}

export default {
  /**
   * GET /launch?url=…: a browser kept between requests, after one warm-up shot (its session id).
   * GET /?session=…&url=…&n=30&tabs=1: `n` shots in it, `tabs` pages at a time, timed here.
   * GET /close?session=…: closes it.
   */
  async fetch(request: Request, env: { BROWSER: Fetcher }): Promise<Response> {
    const { pathname, searchParams: params } = new URL(request.url);
    const url = params.get("url") ?? "";
    if (pathname === "/launch") {
      const browser = await puppeteer.launch(env.BROWSER, { keep_alive: 600_000 });
      await once(browser, url); // warm-up, as the direct run's
      const session = browser.sessionId();
      await browser.disconnect();
      return Response.json({ session });
    }
    const session = params.get("session");
    if (!session) return new Response("session= is required", { status: 400 });
    const browser = await puppeteer.connect(env.BROWSER, session);
    if (pathname === "/close") {
      await browser.close();
      return Response.json({ closed: session });
    }
    try {
      const n = Number(params.get("n") ?? 30);
      const tabs = Number(params.get("tabs") ?? 1);
      let left = n;
      // Date.now() moves on I/O in a Worker, which every step here is.
      const started = Date.now();
      await Promise.all(
        Array.from({ length: tabs }, async () => {
          while (left-- > 0) await once(browser, url);
        }),
      );
      return Response.json({ ms: Date.now() - started, n, tabs });
    } finally {
      await browser.disconnect();
    }
  },
};
