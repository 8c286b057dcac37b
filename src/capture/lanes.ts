/**
 * How a batch's jobs share its one browser: `pages` jobs use a page at once (tabs, not
 * browsers), the next job's fresh context is opened while they work, and what a job does
 * after its picture (the thumbnail and text from its still open page, then storing and
 * events) runs while the next page is already being captured. Heavy jobs (full-page captures) take their page one at a time, so one of them
 * cannot starve or exhaust the others.
 */
export interface BrowserTask {
  /** Opens the job's page (a fresh context): may start before a page slot is free. */
  open?(): Promise<void>;
  /** The job's browser work, in its page slot. Never throws (the task records its own failure). */
  run(): Promise<void>;
  /**
   * Browser work that needs the job's page but not its slot (the thumbnail, the text): it runs
   * while the slot takes the next job, one per slot at a time, and the batch keeps the
   * browser until it is done. Never throws.
   */
  finish?(): Promise<void>;
  /** After all browser work (`finish` included): off the browser's path, while the slot takes the next job. */
  after?(): Promise<void>;
  /** Runs alone among heavy tasks (one full-page capture at a time). */
  heavy?: boolean;
}

/** Jobs opened ahead of a free page slot (their fresh context is ready when a slot frees). */
const OPEN_AHEAD = 1;

/**
 * Runs every task, `pages` at a time, and says when the last one has started. Resolves when
 * all browser work (`run` and `finish`) is done (the browser may be handed on); `afterwards`
 * resolves when every task's `after` has finished too.
 */
export async function runBrowserTasks(
  tasks: BrowserTask[],
  pages: number,
  allStarted: () => void = () => {},
): Promise<{ afterwards: Promise<void> }> {
  const queue = [...tasks];
  const opening = new Map<BrowserTask, Promise<void>>();
  const open = (task: BrowserTask) => {
    let started = opening.get(task);
    if (!started) {
      // A failure is the task's own to report, in `run`.
      started = (task.open?.() ?? Promise.resolve()).catch(() => {});
      opening.set(task, started);
    }
    return started;
  };
  // The next waiting jobs are opened while the running ones work (never more than OPEN_AHEAD).
  const openAhead = () => {
    for (const task of queue.slice(0, OPEN_AHEAD)) open(task);
  };
  let heavy: Promise<void> = Promise.resolve();
  const afters: Promise<void>[] = [];
  const finishes: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    let previous: Promise<void> = Promise.resolve();
    for (let task = queue.shift(); task; task = queue.shift()) {
      if (queue.length === 0) allStarted();
      const opened = open(task);
      openAhead();
      await opened;
      if (task.heavy) {
        const before = heavy;
        let done!: () => void;
        heavy = new Promise((resolve) => {
          done = resolve;
        });
        await before;
        await task
          .run()
          .catch((error) => (failure ??= { error }))
          .finally(done);
      } else {
        await task.run().catch((error) => (failure ??= { error }));
      }
      // One finishing job per slot: the pages open at once, and what waits to be stored, stay bounded.
      await previous;
      const finished = (task.finish?.() ?? Promise.resolve()).catch(() => {});
      finishes.push(finished);
      previous = finished.then(() => task.after?.()).catch(() => {});
      afters.push(previous);
    }
  };
  await Promise.all(Array.from({ length: Math.min(pages, tasks.length) }, lane));
  await Promise.all(finishes);
  const afterwards = Promise.all(afters).then(() => {});
  // A task that broke its word (threw) fails the batch, as before, once the others are done.
  if (failure) {
    await afterwards;
    throw failure.error;
  }
  return { afterwards };
}
