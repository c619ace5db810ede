import { RateWindow } from './rate-window.js';

describe('RateWindow', () => {
  let now = 0;
  const window = () => new RateWindow(3, 60_000, () => now);

  beforeEach(() => (now = 1_000));

  it('admits `limit` hits per key in any window, and says when the oldest frees a slot', () => {
    const rates = window();
    expect([rates.hit('a'), rates.hit('a')].every((hit) => hit.admitted)).toBe(true);
    now = 21_000;
    expect(rates.hit('a').admitted).toBe(true);
    expect(rates.hit('a')).toEqual({ admitted: false, retryAfterSeconds: 40 });
    expect(rates.hit('b').admitted).toBe(true); // another key counts apart
    now = 61_000; // the first two hits are a window old
    expect(rates.hit('a').admitted).toBe(true);
    expect(rates.hit('a').admitted).toBe(true);
    expect(rates.hit('a')).toEqual({ admitted: false, retryAfterSeconds: 20 });
  });

  it('takes back a released hit, and a refused hit costs no slot', () => {
    const rates = window();
    const first = rates.hit('a');
    rates.hit('a');
    rates.hit('a');
    expect(rates.hit('a').admitted).toBe(false);
    if (!first.admitted) throw new Error('the first hit was refused');
    rates.release('a', first.at);
    expect(rates.hit('a').admitted).toBe(true);
    expect(rates.hit('a').admitted).toBe(false);
  });

  it('forgets keys whose hits have all expired', () => {
    const rates = window();
    rates.hit('gone');
    now = 200_000;
    rates.hit('other');
    expect((rates as unknown as { keys: Map<string, unknown> }).keys.has('gone')).toBe(false);
  });
});
