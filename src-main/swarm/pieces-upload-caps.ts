/** What the owner allows for uploads: `undefined` bytes per second means unlimited. */
export interface UploadCaps {
  maxUploadBytesPerSecond?: number;
  maxConcurrentUploads: number;
}

export interface TokenBucket {
  /** Waits until `bytes` may be sent; callers are served in order, so nobody starves. */
  take(bytes: number, signal?: AbortSignal): Promise<void>;
  setRate(bytesPerSecond: number | undefined): void;
}

export interface BucketTime {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realTime: BucketTime = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason as Error);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/**
 * A token bucket for bytes: it refills at the rate and holds at most `burstSeconds` of it. A take larger
 * than what is there goes into debt and waits it off, so sent bytes never exceed burst + rate × time.
 */
export function createTokenBucket(options: { bytesPerSecond: number | undefined; burstSeconds?: number; time?: BucketTime }): TokenBucket {
  const time = options.time ?? realTime;
  const burstSeconds = options.burstSeconds ?? 0.25;
  let rate = options.bytesPerSecond;
  let tokens = rate === undefined ? 0 : rate * burstSeconds;
  let last = time.now();
  let queue: Promise<void> = Promise.resolve();

  function refill() {
    const now = time.now();
    if (rate !== undefined) tokens = Math.min(rate * burstSeconds, tokens + ((now - last) / 1000) * rate);
    last = now;
  }

  return {
    take(bytes, signal) {
      const turn = queue.then(async () => {
        if (rate === undefined) return;
        refill();
        tokens -= bytes;
        if (tokens < 0) await time.sleep((-tokens / rate) * 1000, signal);
      });
      queue = turn.catch(() => undefined);
      return turn;
    },
    setRate(bytesPerSecond) {
      refill();
      rate = bytesPerSecond;
      if (rate !== undefined) tokens = Math.min(tokens, rate * burstSeconds);
    },
  };
}

/** Counts uploads in progress; a session over the cap is refused (never queued: the fetcher asks elsewhere). */
export interface UploadSlots {
  tryAcquire(): (() => void) | undefined;
  active(): number;
  setLimit(limit: number): void;
}

export function createUploadSlots(limit: number): UploadSlots {
  let max = limit;
  let active = 0;
  return {
    tryAcquire() {
      if (active >= max) return undefined;
      active++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active--;
      };
    },
    active: () => active,
    setLimit(next) {
      max = next;
    },
  };
}
