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

      const openWindow = () => {
        timer = setTimeout(closeWindow, windowMs);
      };
      const closeWindow = () => {
        timer = undefined;
        if (pending) {
          const { value } = pending;
          pending = undefined;
          subscriber.next(value);
          if (end === undefined) openWindow();
        }
        if (end !== undefined) finish();
      };
      const finish = () => (end === 'complete' ? subscriber.complete() : subscriber.error(end!.error));
      const endAfterPending = (how: NonNullable<typeof end>) => {
        end = how;
        if (timer === undefined || !pending) finish();
        // else: closeWindow emits the pending value, then finishes.
      };

      const subscription = source.subscribe({
        next: (value) => {
          if (timer === undefined) {
            subscriber.next(value);
            openWindow();
          } else {
            pending = { value };
          }
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
