import { Observable, OperatorFunction } from 'rxjs';

/**
 * Emits the first value at once, then at most one value per `windowMs`: the latest one that
 * arrived during the window. On completion the latest value is always emitted (once the
 * current window has passed), so the last emission is the final value and nothing follows.
 * With cumulative text this is the seed's debounce: every line carries all text so far.
 */
export function throttleLatest<T>(windowMs: number): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      if (windowMs <= 0) return source.subscribe(subscriber);

      let timer: ReturnType<typeof setTimeout> | undefined;
      let pending: { value: T } | undefined;
      let sourceDone = false;

      const openWindow = () => {
        timer = setTimeout(closeWindow, windowMs);
      };
      const closeWindow = () => {
        timer = undefined;
        if (pending) {
          const { value } = pending;
          pending = undefined;
          subscriber.next(value);
          if (!sourceDone) openWindow();
        }
        if (sourceDone) subscriber.complete();
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
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          if (timer === undefined || !pending) subscriber.complete();
          // else: closeWindow emits the pending value and completes.
        },
      });

      return () => {
        if (timer !== undefined) clearTimeout(timer);
        subscription.unsubscribe();
      };
    });
}
