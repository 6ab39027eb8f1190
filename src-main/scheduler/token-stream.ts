/**
 * The consumer's side of a job: tokens are pushed as they are accepted and read at the consumer's pace.
 * The buffer is bounded by the job's answer budget (at most JOB_LIMITS.maxAnswerTokens), so a slow
 * reader never makes the worker's stream wait (which would look like a stall to the transport).
 */
export interface TokenStream<T> extends AsyncIterable<T> {
  push(item: T): void;
  end(): void;
  fail(error: unknown): void;
}

export function createTokenStream<T>(onReturn: () => void): TokenStream<T> {
  const buffered: T[] = [];
  let done = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  let iterated = false;

  const notify = () => {
    wake?.();
    wake = undefined;
  };

  return {
    push(item) {
      if (done) return;
      buffered.push(item);
      notify();
    },
    end() {
      done = true;
      notify();
    },
    fail(error) {
      if (done) return;
      done = true;
      failure = { error };
      notify();
    },
    [Symbol.asyncIterator](): AsyncIterator<T> {
      if (iterated) throw new Error("A job's token stream can be iterated only once; keep one reader.");
      iterated = true;
      let read = 0;
      return {
        async next(): Promise<IteratorResult<T>> {
          // Bounded: each pass either returns or waits for a push/end/fail, which the job makes finitely often.
          for (;;) {
            if (read < buffered.length) {
              const value = buffered[read] as T;
              buffered[read++] = undefined as T; // let delivered tokens be collected
              return { value, done: false };
            }
            if (failure) throw failure.error;
            if (done) return { value: undefined, done: true };
            await new Promise<void>((resolve) => (wake = resolve));
          }
        },
        async return(): Promise<IteratorResult<T>> {
          if (!done) onReturn();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
