import type { ElementHandle, KeyInput } from "@cloudflare/puppeteer";
import type { RunStatus, StepStatus } from "../lib/values";
import { describeError, isPlatformError, TargetError } from "./errors";
import type { CaptureOptions } from "./options";
import { type GuardedPage, isTimeout, navigate, type Shot, shoot, withDeadline } from "./page";
import { gotoUrl, OPTIONAL_CLICK_WAIT_MS, type StepResult, type StoredStep, stepTimeout } from "./steps";
import { withThumbAndText } from "./text";

export type StepOutcome = { status: Exclude<StepStatus, "failed">; screenshot_id?: string };

/** What the runner needs from outside the page: secrets, and storing screenshots. */
export interface RunHooks {
  reveal(sealed: string): Promise<string>;
  /**
   * Stores a screenshot taken at `index` (reserving quota) and returns its id. `take` is
   * given the selectors whose boxes to measure (change detection's ignored elements).
   * With `compare`, the screenshot is compared with its baseline; with `failOnChange` a
   * change throws {@link ChangedShot}.
   */
  saveShot(
    index: number,
    name: string,
    take: (measure: string[]) => Promise<Shot>,
    compare?: { failOnChange: boolean },
  ): Promise<string>;
}

/** A `fail_on_change` screenshot that changed: the step fails, and its screenshot is this one. */
export class ChangedShot extends TargetError {
  override name = "ChangedShot";
  constructor(
    message: string,
    readonly screenshotId: string,
  ) {
    super(message);
  }
}

/** How a run ended, and each step's part of its result (the rest is the step itself). */
export interface RunOutcome {
  status: Extract<RunStatus, "passed" | "failed" | "error">;
  error: string | null;
  steps: Omit<StepResult, "index" | "action" | "name">[];
}

const clip = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

async function visible(g: GuardedPage, selector: string, timeout: number): Promise<ElementHandle> {
  try {
    const el = await g.page.waitForSelector(selector, { visible: true, timeout });
    if (!el) throw new TargetError(`No element matches "${selector}"`);
    return el;
  } catch (err) {
    if (isTimeout(err)) throw new TargetError(`No visible element matches "${selector}" after ${timeout} ms`);
    throw err;
  }
}

/** A run's screenshot with its gallery thumbnail (the run page shows thumbnails, never full images) and its text. */
async function shootWithThumb(g: GuardedPage, opts: CaptureOptions, measure: string[]): Promise<Shot> {
  return withThumbAndText(g, await shoot(g, opts, measure), opts, measure);
}

/** Lets what a click or key press started (a request, a navigation) finish, briefly. */
const settle = (g: GuardedPage) => g.page.waitForNetworkIdle({ idleTime: 200, timeout: 3_000 }).catch(() => {});

/** Re-checks until true or the step's time is up (assertions wait, as a person would). */
async function until(
  check: () => Promise<{ ok: boolean; seen: string }>,
  timeout: number,
  describe: (seen: string) => string,
) {
  const end = Date.now() + timeout;
  let seen = "";
  for (;;) {
    try {
      const r = await check();
      if (r.ok) return;
      seen = r.seen;
    } catch (err) {
      if (isPlatformError(err)) throw err;
      seen = describeError(err); // e.g. the page navigated mid-check; try again
    }
    if (Date.now() >= end) throw new TargetError(describe(seen));
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function scrollToBottom(g: GuardedPage, timeout: number) {
  const end = Date.now() + timeout;
  let last = -1;
  // Keep going while the page grows (lazy loading), up to the step's time.
  for (;;) {
    // Browser-side code as strings: it runs in the page, not in the Worker.
    const height = (await g.page.evaluate(
      "window.scrollTo(0, document.documentElement.scrollHeight); document.documentElement.scrollHeight",
    )) as number;
    await new Promise((r) => setTimeout(r, 250));
    await g.page.waitForNetworkIdle({ idleTime: 150, timeout: 2_000 }).catch(() => {});
    if (height === last || Date.now() >= end) return;
    last = height;
  }
}

export async function performStep(
  g: GuardedPage,
  step: StoredStep,
  index: number,
  ctx: { baseUrl: string; opts: CaptureOptions; hooks: RunHooks },
): Promise<StepOutcome> {
  const timeout = stepTimeout(step);
  const page = g.page;
  switch (step.action) {
    case "goto": {
      const target = gotoUrl(step.url, ctx.baseUrl);
      if (!target.ok) throw new TargetError(`Cannot open "${clip(step.url, 80)}": ${target.reason}`);
      await navigate(g, target.url, { ...ctx.opts, wait_for_selector: null, timeout_ms: timeout });
      return { status: "passed" };
    }
    case "click": {
      if (step.optional) {
        const el = await page
          .waitForSelector(step.selector, { visible: true, timeout: step.timeout_ms ?? OPTIONAL_CLICK_WAIT_MS })
          .catch((err) => {
            if (isTimeout(err)) return null;
            throw err;
          });
        if (!el) return { status: "skipped" };
        await el.click();
      } else {
        await (await visible(g, step.selector, timeout)).click();
      }
      await settle(g);
      return { status: "passed" };
    }
    case "type": {
      const el = await visible(g, step.selector, timeout);
      const text = step.secret && step.sealed ? await ctx.hooks.reveal(step.sealed) : (step.text ?? "");
      await el.type(text);
      return { status: "passed" };
    }
    case "select": {
      await visible(g, step.selector, timeout);
      const picked = await page.select(step.selector, step.value);
      if (!picked.includes(step.value))
        throw new TargetError(`"${step.selector}" has no option with value "${clip(step.value, 80)}"`);
      return { status: "passed" };
    }
    case "hover":
      await (await visible(g, step.selector, timeout)).hover();
      return { status: "passed" };
    case "press":
      try {
        await page.keyboard.press(step.key as KeyInput);
      } catch (err) {
        if (/Unknown key/i.test(describeError(err))) throw new TargetError(`Unknown key "${step.key}"`);
        throw err;
      }
      await settle(g);
      return { status: "passed" };
    case "scroll":
      if (step.to === "bottom") await scrollToBottom(g, timeout);
      else await (await visible(g, step.to, timeout)).scrollIntoView();
      return { status: "passed" };
    case "wait":
      await new Promise((r) => setTimeout(r, step.ms));
      return { status: "passed" };
    case "wait_for_selector": {
      const state = step.state ?? "visible";
      try {
        await page.waitForSelector(step.selector, {
          visible: state === "visible",
          hidden: state === "hidden",
          timeout,
        });
      } catch (err) {
        if (isTimeout(err)) throw new TargetError(`"${step.selector}" did not become ${state} within ${timeout} ms`);
        throw err;
      }
      return { status: "passed" };
    }
    case "hide":
      await page.addStyleTag({ content: `${step.selector} { visibility: hidden !important; }` });
      return { status: "passed" };
    case "screenshot": {
      const compare = step.compare || step.fail_on_change ? { failOnChange: step.fail_on_change === true } : undefined;
      const id = await ctx.hooks.saveShot(
        index,
        step.name,
        (measure) =>
          shootWithThumb(
            g,
            {
              ...ctx.opts,
              full_page: step.full_page ?? ctx.opts.full_page,
              selector: step.selector ?? null,
              delay_ms: 0,
            },
            measure,
          ),
        compare,
      );
      return { status: "passed", screenshot_id: id };
    }
    case "assert_text": {
      const { selector, contains } = step;
      await until(
        async () => {
          const text = (await page.evaluate(
            `(() => { const el = ${selector ? `document.querySelector(${JSON.stringify(selector)})` : "document.body"}; return el ? (el.innerText ?? el.textContent ?? "") : null; })()`,
          )) as string | null;
          return { ok: text?.includes(contains) === true, seen: text === null ? "(no such element)" : text };
        },
        timeout,
        (seen) =>
          `Expected ${selector ? `"${selector}"` : "the page"} to contain "${clip(contains, 80)}"; found ${seen.startsWith("(") ? seen : `"${clip(seen.trim())}"`}`,
      );
      return { status: "passed" };
    }
    case "assert_visible":
      try {
        await page.waitForSelector(step.selector, { visible: true, timeout });
      } catch (err) {
        if (isTimeout(err)) throw new TargetError(`Expected "${step.selector}" to be visible within ${timeout} ms`);
        throw err;
      }
      return { status: "passed" };
    case "assert_url":
      await until(
        async () => ({ ok: page.url().includes(step.contains), seen: page.url() }),
        timeout,
        (seen) => `Expected the URL to contain "${clip(step.contains, 80)}"; it is "${clip(seen)}"`,
      );
      return { status: "passed" };
    case "assert_title":
      await until(
        async () => {
          const title = await page.title();
          return { ok: title.includes(step.contains), seen: title };
        },
        timeout,
        (seen) => `Expected the title to contain "${clip(step.contains, 80)}"; it is "${clip(seen)}"`,
      );
      return { status: "passed" };
  }
}

export class BudgetExceeded extends Error {
  override name = "BudgetExceeded";
}

/**
 * Runs the steps in order in one page. The first failing step fails the run: its error is
 * recorded with a screenshot of the page at that moment (`failure-step-<n>`), and later steps
 * are `skipped` when the run is finished. Past the run's time budget, or when the browser
 * dies, the run ends `error` instead. Messages number steps from 1, as the editor does.
 */
export async function runSteps(
  g: GuardedPage,
  steps: StoredStep[],
  ctx: { baseUrl: string; opts: CaptureOptions; hooks: RunHooks; deadline: number; budgetMs: number },
): Promise<RunOutcome> {
  const results: RunOutcome["steps"] = steps.map(() => ({ status: "pending", duration_ms: 0 }));
  const budgetError = () => `The run exceeded its time budget of ${ctx.budgetMs} ms`;
  try {
    // The page starts at the website, unless the first step says where to go.
    if (steps[0]?.action !== "goto") {
      await withDeadline(
        Math.max(1, ctx.deadline - Date.now()),
        "Opening the website",
        navigate(g, ctx.baseUrl, ctx.opts),
      );
    }
  } catch (err) {
    if (isPlatformError(err))
      return { status: "error", error: `The browser failed: ${describeError(err)}`, steps: results };
    if (Date.now() >= ctx.deadline) return { status: "error", error: budgetError(), steps: results };
    return { status: "failed", error: `Opening ${ctx.baseUrl} failed: ${describeError(err)}`, steps: results };
  }

  for (const [index, step] of steps.entries()) {
    const started = Date.now();
    const left = ctx.deadline - started;
    const result = results[index] as RunOutcome["steps"][number];
    if (left <= 0) return { status: "error", error: budgetError(), steps: results };
    const allowance = stepTimeout(step) + (step.action === "wait" ? step.ms : 0) + 5_000;
    try {
      const work = performStep(g, step, index, ctx);
      const outcome =
        allowance >= left
          ? await Promise.race([
              work,
              new Promise<never>((_, reject) => setTimeout(() => reject(new BudgetExceeded(budgetError())), left)),
            ])
          : await withDeadline(allowance, `Step ${index + 1} (${step.action})`, work);
      result.status = outcome.status;
      if (outcome.screenshot_id) result.screenshot_id = outcome.screenshot_id;
      result.duration_ms = Date.now() - started;
    } catch (err) {
      result.duration_ms = Date.now() - started;
      result.status = "failed";
      result.error = describeError(err);
      if (err instanceof BudgetExceeded) return { status: "error", error: budgetError(), steps: results };
      if (isPlatformError(err))
        return { status: "error", error: `The browser failed at step ${index + 1}: ${result.error}`, steps: results };
      if (err instanceof ChangedShot) {
        // The changed screenshot (its comparison and diff) is what the step shows.
        result.screenshot_id = err.screenshotId;
        return {
          status: "failed",
          error: `Step ${index + 1} (${step.action}) failed: ${result.error}`,
          steps: results,
        };
      }
      try {
        result.screenshot_id = await withDeadline(
          15_000,
          "Failure screenshot",
          ctx.hooks.saveShot(index, `failure-step-${index + 1}`, (measure) =>
            shootWithThumb(g, { ...ctx.opts, selector: null, delay_ms: 0 }, measure),
          ),
        );
      } catch (shotErr) {
        console.error(
          JSON.stringify({ level: "warn", msg: "failure screenshot not taken", error: describeError(shotErr) }),
        );
      }
      return { status: "failed", error: `Step ${index + 1} (${step.action}) failed: ${result.error}`, steps: results };
    }
  }
  return { status: "passed", error: null, steps: results };
}
