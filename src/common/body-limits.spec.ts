import { jsonNestsDeeperThan } from './body-limits.js';

describe('jsonNestsDeeperThan', () => {
  const deeper = (json: string, max = 3) => jsonNestsDeeperThan(Buffer.from(json), max);

  it('counts objects and arrays alike, the outermost as level 1', () => {
    expect(deeper('[{"a":[1]}]')).toBe(false);
    expect(deeper('[{"a":[[1]]}]')).toBe(true);
    expect(deeper('{"a":{"b":{"c":{}}}}')).toBe(true);
    expect(deeper('[[[]],[[]],[[]]]')).toBe(false);
    expect(deeper('"text"')).toBe(false);
  });

  it('does not count brackets inside strings, escaped quotes and backslashes included', () => {
    expect(deeper('{"a":"[[[[{{{{"}')).toBe(false);
    expect(deeper('{"a":"\\"[[[[","b":1}')).toBe(false);
    expect(deeper('{"a":"\\\\","b":[[1]]}')).toBe(false);
    expect(deeper('{"a":"\\\\","b":[[[1]]]}')).toBe(true);
    expect(deeper('{"[[[[":"]]]]","é😀":"{{{{"}')).toBe(false);
  });

  it('stops at the first level too deep, however long the body', () => {
    expect(deeper('['.repeat(4) + 'x'.repeat(1000))).toBe(true);
  });
});
