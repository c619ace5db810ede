import { Observable, OperatorFunction } from 'rxjs';

/**
 * Emits the first value at once, then at most one value per `windowMs`: the latest one that
 * arrived during the window. On completion or error the latest value is always emitted first
 * (once the current window has passed), so the last emission is the final value and nothing
 * follows but the completion or the error.
 * With cumulative text this is the seed's debounce: every line carries all text so far.
 */
export function throttleLatest<T>(windowMs: number): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      if (windowMs <= 0) return source.subscribe(subscriber);

      let timer: ReturnType<typeof setTimeout> | undefined;
      let pending: { value: T } | undefined;
      let end: { error: unknown } | 'complete' | undefined;
      let emittedAt = -Infinity;

      const emit = (value: T) => {
        emittedAt = performance.now();
        subscriber.next(value);
      };
      // A timer only when a value has to wait: with tokens slower than the window (the usual
      // case), every token goes out at once and no timer is ever set.
      const flush = () => {
        timer = undefined;
        if (pending) {
          const { value } = pending;
          pending = undefined;
          emit(value);
        }
        if (end !== undefined) finish();
      };
      const finish = () => (end === 'complete' ? subscriber.complete() : subscriber.error(end!.error));
      const endAfterPending = (how: NonNullable<typeof end>) => {
        end = how;
        if (timer === undefined) finish();
        // else: flush emits the pending value at the window's end, then finishes.
      };

      const subscription = source.subscribe({
        next: (value) => {
          if (timer !== undefined) {
            pending = { value };
            return;
          }
          const wait = emittedAt + windowMs - performance.now();
          if (wait <= 0) return emit(value);
          pending = { value };
          timer = setTimeout(flush, wait);
        },
        error: (error: unknown) => endAfterPending({ error }),
        complete: () => endAfterPending('complete'),
      });

      return () => {
        if (timer !== undefined) clearTimeout(timer);
        subscription.unsubscribe();
      };
    });
}
