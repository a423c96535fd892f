/** The seed's simulated work: `options.delay_ms` when set (0 in tests and benchmarks), else the seed's default. */
export function delayOf(options: Readonly<Record<string, unknown>>, fallbackMs: number): number {
  const v = options.delay_ms;
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : fallbackMs;
}

/** Sleeps, cut short by shutdown's abort signal (the event is then redelivered). */
export function simulateWork(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
