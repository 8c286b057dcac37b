/** What a request can wait for, and the statuses in which it has finished. */
export type JobKind = "screenshot" | "run";
export const FINISHED: Record<JobKind, readonly string[]> = {
  screenshot: ["completed", "failed"],
  run: ["passed", "failed", "error"],
};

/** Where `Prefer: wait` requests wait for their job; services see only this. */
export interface Completions {
  /** True once the job has finished (`finished()` says so), false when `ms` passed first. */
  wait(id: string, finished: () => Promise<boolean>, ms: number): Promise<boolean>;
}

/**
 * Requests waiting for a job to end (`Prefer: wait`), inside the account's object. The job
 * runs in another invocation (the queue consumer), whose final state change is a call to the
 * same object, which then wakes the waiters: no polling. Waiters live in memory only: an
 * object with a request waiting on it is not evicted, and one without has nothing to keep.
 *
 * `wait` registers first and reads the row after, so a job that finished before the wait
 * began is seen by that read, and one that finishes after it wakes the waiter.
 */
export class Waiters implements Completions {
  private readonly waiters = new Map<string, Set<() => void>>();

  async wait(id: string, finished: () => Promise<boolean>, ms: number): Promise<boolean> {
    let wake = () => {};
    const woken = new Promise<true>((resolve) => {
      wake = () => resolve(true);
    });
    const set = this.waiters.get(id) ?? new Set();
    set.add(wake);
    this.waiters.set(id, set);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      if (await finished()) return true;
      return await Promise.race([
        woken,
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
    }
  }

  /** Wakes every request waiting for job `id`. */
  notify(id: string): void {
    for (const wake of this.waiters.get(id) ?? []) wake();
  }
}
