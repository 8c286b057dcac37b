import type { Browser, BrowserContext, Page } from "@cloudflare/puppeteer";

/** A page in a browser context of its own that nothing has used yet. */
export interface FreshContext {
  context: BrowserContext;
  page: Page;
}

/** Contexts being closed, per connection: the batch waits for them before it lets the browser go. */
const closing = new WeakMap<Browser, Promise<unknown>[]>();

/** A fresh context (incognito: its own cookies, storage, cache) and page for one job. */
export async function freshContext(browser: Browser): Promise<FreshContext> {
  const context = await browser.createBrowserContext();
  try {
    return { context, page: await context.newPage() };
  } catch (err) {
    await context.close().catch(() => {});
    throw err;
  }
}

/** Closes a job's context off the job's path; `drainContexts` waits for it. */
export function retireContext(browser: Browser, context: BrowserContext): void {
  const list = closing.get(browser) ?? [];
  list.push(context.close().catch(() => {}));
  closing.set(browser, list);
}

/** Before disconnecting: waits (bounded) for every context still closing. */
export async function drainContexts(browser: Browser, timeoutMs = 5_000): Promise<void> {
  const list = closing.get(browser) ?? [];
  closing.delete(browser);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled(list),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
