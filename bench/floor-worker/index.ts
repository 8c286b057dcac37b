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
  /** GET /?url=…&n=30&tabs=1: one warm-up shot, then `n` shots, `tabs` pages at a time. */
  async fetch(request: Request, env: { BROWSER: Fetcher }): Promise<Response> {
    const params = new URL(request.url).searchParams;
    const url = params.get("url");
    if (!url) return new Response("url= is required", { status: 400 });
    const n = Number(params.get("n") ?? 30);
    const tabs = Number(params.get("tabs") ?? 1);
    const launched = Date.now();
    const browser = await puppeteer.launch(env.BROWSER);
    try {
      const launchMs = Date.now() - launched;
      await once(browser, url); // warm-up, as the direct run's
      let left = n;
      // Date.now() moves on I/O in a Worker, which every step here is.
      const started = Date.now();
      await Promise.all(
        Array.from({ length: tabs }, async () => {
          while (left-- > 0) await once(browser, url);
        }),
      );
      return Response.json({ ms: Date.now() - started, launch_ms: launchMs, n, tabs });
    } finally {
      await browser.close();
    }
  },
};
