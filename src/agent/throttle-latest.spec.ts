import { jest } from '@jest/globals';
import { Subject } from 'rxjs';
import { throttleLatest } from './throttle-latest.js';

describe('throttleLatest (the seed debounce)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function harness(windowMs: number) {
    const source = new Subject<string>();
    const emitted: { value: string; at: number }[] = [];
    let completed = false;
    const start = Date.now();
    source.pipe(throttleLatest(windowMs)).subscribe({
      next: (value) => emitted.push({ value, at: Date.now() - start }),
      complete: () => (completed = true),
    });
    return { source, emitted, isCompleted: () => completed };
  }

  it('emits the first value at once', () => {
    const { source, emitted } = harness(10);
    source.next('a');
    expect(emitted).toEqual([{ value: 'a', at: 0 }]);
  });

  it('groups values inside a window into one emission of the latest, at the window end', () => {
    const { source, emitted } = harness(10);
    source.next('a');
    jest.advanceTimersByTime(2);
    source.next('ab');
    jest.advanceTimersByTime(2);
    source.next('abc');
    expect(emitted.map((e) => e.value)).toEqual(['a']);
    jest.advanceTimersByTime(6);
    expect(emitted).toEqual([
      { value: 'a', at: 0 },
      { value: 'abc', at: 10 },
    ]);
  });

  it('never emits twice within one window', () => {
    const { source, emitted } = harness(10);
    for (let t = 0; t < 100; t++) {
      source.next(`v${t}`);
      jest.advanceTimersByTime(1);
    }
    source.complete();
    jest.advanceTimersByTime(10);
    const gaps = emitted.slice(1).map((e, i) => e.at - emitted[i].at);
    expect(gaps.length).toBeGreaterThan(5);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(10);
  });

  it('emits the final value at once on completion (no wait for the window), then completes, with nothing after', () => {
    const { source, emitted, isCompleted } = harness(10);
    source.next('a');
    source.next('ab');
    source.complete();
    expect(emitted).toEqual([
      { value: 'a', at: 0 },
      { value: 'ab', at: 0 },
    ]);
    expect(isCompleted()).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
    source.next('abc');
    jest.advanceTimersByTime(100);
    expect(emitted.map((e) => e.value)).toEqual(['a', 'ab']);
  });

  it('completes at once when the last value was already emitted', () => {
    const { source, emitted, isCompleted } = harness(10);
    source.next('a');
    source.complete();
    expect(isCompleted()).toBe(true);
    expect(emitted.map((e) => e.value)).toEqual(['a']);
  });

  it('starts a fresh window after a quiet period: the next value goes out at once', () => {
    const { source, emitted } = harness(10);
    source.next('a');
    jest.advanceTimersByTime(50);
    source.next('ab');
    expect(emitted).toEqual([
      { value: 'a', at: 0 },
      { value: 'ab', at: 50 },
    ]);
  });

  it('passes every value through when the window is 0', () => {
    const { source, emitted } = harness(0);
    source.next('a');
    source.next('ab');
    expect(emitted.map((e) => e.value)).toEqual(['a', 'ab']);
  });

  it('drops the pending value and its timer when unsubscribed', () => {
    const source = new Subject<string>();
    const seen: string[] = [];
    const subscription = source.pipe(throttleLatest(10)).subscribe((v) => seen.push(v));
    source.next('a');
    source.next('ab');
    subscription.unsubscribe();
    jest.advanceTimersByTime(20);
    expect(seen).toEqual(['a']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('forwards errors', () => {
    const source = new Subject<string>();
    const errors: unknown[] = [];
    source.pipe(throttleLatest(10)).subscribe({ error: (e) => errors.push(e) });
    source.error(new Error('boom'));
    expect(errors).toEqual([new Error('boom')]);
  });

  it('emits the value still pending before an error, so the last text shown is all that arrived', () => {
    const source = new Subject<string>();
    const events: string[] = [];
    source.pipe(throttleLatest(10)).subscribe({
      next: (v) => events.push(`next ${v}`),
      error: (e: Error) => events.push(`error ${e.message}`),
    });
    source.next('a');
    source.next('ab');
    source.error(new Error('boom'));
    expect(events).toEqual(['next a', 'next ab', 'error boom']);
  });

  describe('with values that are not mergeable (tool events among text)', () => {
    function mixed() {
      const source = new Subject<string>();
      const emitted: { value: string; at: number }[] = [];
      const start = Date.now();
      let completed = false;
      source.pipe(throttleLatest(10, (value) => value.startsWith('text'))).subscribe({
        next: (value) => emitted.push({ value, at: Date.now() - start }),
        complete: () => (completed = true),
      });
      return { source, emitted, isCompleted: () => completed };
    }

    it('passes them at once when nothing waits, without starting a window', () => {
      const { source, emitted } = mixed();
      source.next('tool 1');
      source.next('text a');
      source.next('tool 2');
      expect(emitted).toEqual([
        { value: 'tool 1', at: 0 },
        { value: 'text a', at: 0 },
        { value: 'tool 2', at: 0 },
      ]);
    });

    it('keeps their place after the text they followed, and keeps the text spacing', () => {
      const { source, emitted } = mixed();
      source.next('text a');
      source.next('text ab'); // waits
      source.next('tool 1'); // after "ab": "ab" must not be dropped
      source.next('text abc'); // after the tool: its own window
      source.next('text abcd');
      jest.advanceTimersByTime(10);
      expect(emitted).toEqual([
        { value: 'text a', at: 0 },
        { value: 'text ab', at: 10 },
        { value: 'tool 1', at: 10 },
      ]);
      jest.advanceTimersByTime(10);
      expect(emitted.slice(3)).toEqual([{ value: 'text abcd', at: 20 }]);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('sends everything waiting, in order, on completion', () => {
      const { source, emitted, isCompleted } = mixed();
      source.next('text a');
      source.next('text ab');
      source.next('tool 1');
      source.next('text abc');
      source.complete();
      expect(emitted.map((e) => e.value)).toEqual(['text a', 'text ab', 'tool 1', 'text abc']);
      expect(isCompleted()).toBe(true);
    });
  });
});
