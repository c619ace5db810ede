import { spawnSync } from 'node:child_process';
import { HOLD_YOUNG_GENERATION, RELEASE_YOUNG_GENERATION, shouldHoldYoungGeneration } from './start-up-heap.js';

describe('the young generation held back during start-up', () => {
  it("holds it unless the operator sizes it themselves, in node's flags or NODE_OPTIONS", () => {
    expect(shouldHoldYoungGeneration([], '')).toBe(true);
    expect(shouldHoldYoungGeneration(['--enable-source-maps'], '--max-old-space-size=512')).toBe(true);
    expect(shouldHoldYoungGeneration(['--max-semi-space-size=8'], '')).toBe(false);
    expect(shouldHoldYoungGeneration([], '--max_semi_space_size=4')).toBe(false);
    expect(shouldHoldYoungGeneration([], '--semi-space-growth-factor=3')).toBe(false);
  });

  // What the hold relies on: this Node's V8 takes the flag at run time, not only at launch.
  it('keeps the young generation at its initial size while held, and lets it grow once released', () => {
    const script = `
      const v8 = require('node:v8');
      const youngMb = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
      // Objects that survive their scavenges, as modules' code and metadata do at start-up.
      const kept = [];
      const allocate = () => { for (let i = 0; i < 400000; i++) kept.push({ i, text: 'row ' + i }); };
      v8.setFlagsFromString(${JSON.stringify(HOLD_YOUNG_GENERATION)});
      const initial = youngMb();
      allocate();
      const held = youngMb();
      v8.setFlagsFromString(${JSON.stringify(RELEASE_YOUNG_GENERATION)});
      allocate();
      console.log(JSON.stringify({ initial, held, released: youngMb(), kept: kept.length }));
    `;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(child.stderr).toBe('');
    const sizes = JSON.parse(child.stdout) as { initial: number; held: number; released: number; kept: number };
    expect(sizes.kept).toBe(800000);
    // V8 starts with 1 MB semi-spaces and, left alone, grows them to 16 MB under this allocation.
    expect(sizes.initial).toBeLessThanOrEqual(2);
    expect(sizes.held).toBeLessThanOrEqual(2);
    expect(sizes.released).toBeGreaterThanOrEqual(4 * sizes.held);
  });
});
