import type { Browser, BrowserContext, Page } from "@cloudflare/puppeteer";

/** A page in a browser context of its own that nothing has used yet. */
export interface FreshContext {
  context: BrowserContext;
  page: Page;
}

/** Contexts kept ready for the batch's next jobs (a context's first page costs a new renderer). */
const SPARES = 2;

interface Pool {
  spares: Promise<FreshContext>[];
  /** Jobs of the batch that have not taken a context yet. */
  waiting: number;
  closing: Promise<unknown>[];
}

const pools = new WeakMap<Browser, Pool>();

function poolOf(browser: Browser): Pool {
  let pool = pools.get(browser);
  if (!pool) {
    pool = { spares: [], waiting: 0, closing: [] };
    pools.set(browser, pool);
  }
  return pool;
}

function prepare(browser: Browser): Promise<FreshContext> {
  const ready = (async () => {
    const context = await browser.createBrowserContext();
    try {
      return { context, page: await context.newPage() };
    } catch (err) {
      await context.close().catch(() => {});
      throw err;
    }
  })();
  ready.catch(() => {}); // a spare nobody takes must not be an unhandled rejection
  return ready;
}

function topUp(browser: Browser, pool: Pool) {
  while (pool.spares.length < Math.min(SPARES, pool.waiting)) pool.spares.push(prepare(browser));
}

/** Tells the pool how many jobs the batch will run, so it can get their contexts ready. */
export function expectJobs(browser: Browser, jobs: number): void {
  const pool = poolOf(browser);
  pool.waiting += jobs;
  topUp(browser, pool);
}

/**
 * A fresh context and page for one job: a spare made ready earlier when there is one. A
 * spare has never been navigated, so nothing of another job can be in it.
 */
export async function freshContext(browser: Browser): Promise<FreshContext> {
  const pool = poolOf(browser);
  pool.waiting = Math.max(0, pool.waiting - 1);
  const next = pool.spares.shift() ?? prepare(browser);
  topUp(browser, pool);
  return next;
}

/** Closes a job's context off the job's path; `drainContexts` waits for it. */
export function retireContext(browser: Browser, context: BrowserContext): void {
  poolOf(browser).closing.push(context.close().catch(() => {}));
}

/** Before disconnecting: closes unused spares and waits (bounded) for every close. */
export async function drainContexts(browser: Browser, timeoutMs = 5_000): Promise<void> {
  const pool = pools.get(browser);
  if (!pool) return;
  pools.delete(browser);
  const closes = [
    ...pool.closing,
    ...pool.spares.map((spare) => spare.then((fresh) => fresh.context.close()).catch(() => {})),
  ];
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled(closes),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
