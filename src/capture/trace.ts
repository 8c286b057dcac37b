/**
 * Where one capture's time goes, phase by phase, for `npm run bench capture`. Recorded for
 * every capture (a clock read per phase) and logged only with `CAPTURE_TRACE=1`.
 */

declare global {
  namespace Cloudflare {
    interface Env {
      /** "1": log each capture's per-phase trace (`npm run bench capture` sets it; never deployed). */
      CAPTURE_TRACE?: string;
    }
  }
}

/** The phases, in the order a capture passes them (README, "Benchmarks"). */
export type Phase =
  | "claim"
  | "browser"
  | "guard"
  | "context"
  | "arming"
  | "viewport and emulation"
  | "navigation"
  | "waits"
  | "ignore boxes"
  | "screenshot"
  | "thumbnail"
  | "text"
  | "store"
  | "R2 put"
  | "row update"
  | "events";

export interface Span {
  phase: Phase;
  /** Milliseconds from the trace's start to the phase's start. */
  at: number;
  ms: number;
}

export interface Trace {
  /** Runs `work` as `phase` (phases may overlap: each records its own start and length). */
  span<T>(phase: Phase, work: () => Promise<T>): Promise<T>;
}

/** For callers that do not trace (scenario runs, comparisons). */
export const untraced: Trace = { span: (_phase, work) => work() };

export class PhaseTrace implements Trace {
  readonly spans: Span[] = [];
  readonly start: number;
  constructor(start = Date.now()) {
    this.start = start;
  }
  async span<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    const at = Date.now();
    try {
      return await work();
    } finally {
      this.spans.push({ phase, at: at - this.start, ms: Date.now() - at });
    }
  }
  /** A trace for one job of a batch: the batch's phases so far (claim, browser) and its clock. */
  fork(): PhaseTrace {
    const job = new PhaseTrace(this.start);
    job.spans.push(...this.spans);
    return job;
  }
}

/** R2 writes through `bucket` are traced as "R2 put" (storing code stays as it is). */
export function tracedBucket(bucket: R2Bucket, trace: Trace): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      if (prop !== "put") return value.bind(target);
      return (...args: Parameters<R2Bucket["put"]>) => trace.span("R2 put", () => target.put(...args));
    },
  });
}

/** Logs a capture's trace as one JSON line when `CAPTURE_TRACE` is "1". */
export function logTrace(env: Env, id: string, trace: PhaseTrace): void {
  if (env.CAPTURE_TRACE !== "1") return;
  console.log(
    JSON.stringify({
      msg: "capture trace",
      id,
      batch: trace.start,
      total_ms: Date.now() - trace.start,
      spans: trace.spans,
    }),
  );
}
