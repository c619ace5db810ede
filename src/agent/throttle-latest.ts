import { Observable, OperatorFunction } from 'rxjs';

/**
 * Emits the first value at once, then at most one *mergeable* value per `windowMs`: the latest
 * one that arrived during the window. Values that are not mergeable (a tool call among text)
 * are never dropped and never reordered: they go out at once when nothing waits, else right
 * after the value they followed. On completion or error everything waiting goes out at once:
 * the spacing only matters while values are still arriving, and the final value should not
 * wait out a window (so the last emission is always the final value).
 * With cumulative text this is the seed's debounce: every line carries all text so far.
 */
export function throttleLatest<T>(windowMs: number, mergeable: (value: T) => boolean = () => true): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      if (windowMs <= 0) return source.subscribe(subscriber);

      let timer: ReturnType<typeof setTimeout> | undefined;
      /** In arrival order; only the last may be replaced (a newer mergeable value supersedes an older one only when nothing came between). */
      const waiting: T[] = [];
      let lastWaitingMergeable = false;
      let emittedAt = -Infinity;

      const emitMergeable = (value: T) => {
        emittedAt = performance.now();
        subscriber.next(value);
      };
      // A timer only when a value has to wait: with tokens slower than the window (the usual
      // case), every token goes out at once and no timer is ever set.
      const flush = () => {
        timer = undefined;
        // One mergeable value per window, with whatever unmergeable values follow it.
        let sentMergeable = false;
        while (waiting.length > 0) {
          const isMergeable = mergeable(waiting[0]);
          if (isMergeable && sentMergeable) break;
          const value = waiting.shift()!;
          if (isMergeable) {
            sentMergeable = true;
            emitMergeable(value);
          } else {
            subscriber.next(value);
          }
        }
        if (waiting.length === 0) lastWaitingMergeable = false;
        else timer = setTimeout(flush, windowMs);
      };
      const drain = () => {
        clearTimeout(timer);
        timer = undefined;
        for (const value of waiting.splice(0)) subscriber.next(value);
        lastWaitingMergeable = false;
      };

      const subscription = source.subscribe({
        next: (value) => {
          const isMergeable = mergeable(value);
          if (timer !== undefined) {
            if (isMergeable && lastWaitingMergeable) waiting[waiting.length - 1] = value;
            else waiting.push(value);
            lastWaitingMergeable = isMergeable;
            return;
          }
          if (!isMergeable) return subscriber.next(value);
          const wait = emittedAt + windowMs - performance.now();
          if (wait <= 0) return emitMergeable(value);
          waiting.push(value);
          lastWaitingMergeable = true;
          timer = setTimeout(flush, wait);
        },
        error: (error: unknown) => {
          drain();
          subscriber.error(error);
        },
        complete: () => {
          drain();
          subscriber.complete();
        },
      });

      return () => {
        if (timer !== undefined) clearTimeout(timer);
        subscription.unsubscribe();
      };
    });
}
