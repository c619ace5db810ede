import { NEVER, of } from 'rxjs';
import { MessageEntity } from '../persistence/message.entity.js';
import { AnswerRun, type AnswerRunSteps, type ReservedAnswer } from './answer-run.js';
import { AnswerRunRegistry } from './answer-run.registry.js';

const row = (id: number) => Object.assign(new MessageEntity(), { id, conversationId: 'c1', content: '' });
const reserved: ReservedAnswer = { prompt: row(1), answer: row(2) };

function run(conversationId: string, ownerId: string, endless: boolean): AnswerRun {
  const steps: AnswerRunSteps = {
    reserve: () => Promise.resolve(reserved),
    context: () => Promise.resolve([]),
    answer: () => (endless ? NEVER : of({ type: 'text' as const, text: 'done' })),
    store: (r) => Promise.resolve(r.answer),
    checkpoint: () => Promise.resolve(),
  };
  return new AnswerRun(conversationId, ownerId, steps, { debounceMs: 0, whenAbandoned: 'continue', maxDurationMs: 0, checkpointMs: 0 });
}

describe('AnswerRunRegistry', () => {
  it("finds the newest run in progress in a conversation, only for its owner, and forgets runs once they're stored", async () => {
    const registry = new AnswerRunRegistry();
    const first = run('c1', 'alice', true);
    const second = run('c1', 'alice', true);
    const finished = run('c2', 'alice', false);
    for (const r of [first, second, finished]) registry.add(r.start());
    expect(registry.find('c1', 'alice')).toBe(second);
    expect(registry.find('c1', 'mallory')).toBeUndefined();
    expect(registry.find('c3', 'alice')).toBeUndefined();
    await finished.settled;
    expect(registry.find('c2', 'alice')).toBeUndefined();
    expect(registry.all()).toEqual([first, second]);

    await Promise.all([first.stop('shutdown'), second.stop('shutdown')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(registry.all()).toEqual([]);
  });
});
