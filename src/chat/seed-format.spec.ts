import { seedLines } from './seed-format.js';

describe('seedLines', () => {
  it('writes the same bytes as JSON.stringify of each seed line, whatever the text holds', () => {
    const rows = [
      { role: 'user' as const, timestamp: '2026-12-01T08:00:00.000001Z', content: 'plain' },
      { role: 'model' as const, timestamp: '2026-12-01T08:00:00.000002Z', content: 'quotes " and \\ backslashes, \n newlines, \t tabs, \u2028 separators, \u0001 controls, emoji 🎉, ünïcödé' },
      { role: 'model' as const, timestamp: '2026-12-01T08:00:00.000003Z', content: '' },
    ];
    const expected = rows.map(({ role, timestamp, content }) => `${JSON.stringify({ role, timestamp, content })}\n`).join('');
    expect(seedLines(rows)).toBe(expected);
    expect(seedLines([])).toBe('');
  });
});
