import { type AnswerPart, answerTurns, hasToolParts, unansweredCalls, withText } from './answer-parts.js';

const call = (id: string, name = 'lookup', input: unknown = { id }): AnswerPart => ({ type: 'tool-call', toolCallId: id, toolName: name, input });
const result = (id: string, output = `out ${id}`): AnswerPart => ({ type: 'tool-result', toolCallId: id, toolName: 'lookup', output });
const failure = (id: string, error = `bad ${id}`): AnswerPart => ({ type: 'tool-error', toolCallId: id, toolName: 'lookup', error });

describe('answer parts', () => {
  it('joins text to the last text part, and starts a new one after a tool step', () => {
    let parts = withText([], 'a');
    parts = withText(parts, 'b');
    parts = [...parts, call('1'), result('1')];
    parts = withText(parts, 'c');
    expect(parts).toEqual([{ type: 'text', text: 'ab' }, call('1'), result('1'), { type: 'text', text: 'c' }]);
    expect(hasToolParts(parts)).toBe(true);
    expect(hasToolParts(withText([], 'only text'))).toBe(false);
  });

  it('finds the calls still without a result', () => {
    expect(unansweredCalls([call('1'), call('2'), result('1')])).toEqual([call('2')]);
  });

  it('gives a text-only answer back as one model turn', () => {
    expect(answerTurns('hello', null)).toEqual([{ role: 'model', content: 'hello' }]);
    expect(answerTurns('hello', [{ type: 'text', text: 'hello' }])).toEqual([{ role: 'model', content: 'hello' }]);
  });

  it('gives each step back in OpenAI order: its text with its calls, then one tool message per call, then the next step', () => {
    const parts: AnswerPart[] = [
      { type: 'text', text: 'Let me look. ' },
      call('a'),
      call('b', 'other', 'not json'),
      result('a'),
      failure('b'),
      call('c'),
      result('c'),
      { type: 'text', text: 'Done.' },
    ];
    expect(answerTurns('Let me look. Done.', parts)).toEqual([
      {
        role: 'model',
        content: 'Let me look. ',
        toolCalls: [
          { id: 'a', name: 'lookup', arguments: '{"id":"a"}' },
          { id: 'b', name: 'other', arguments: 'not json' },
        ],
      },
      { role: 'tool', toolCallId: 'a', content: 'out a' },
      { role: 'tool', toolCallId: 'b', content: 'Error: bad b' },
      { role: 'model', content: '', toolCalls: [{ id: 'c', name: 'lookup', arguments: '{"id":"c"}' }] },
      { role: 'tool', toolCallId: 'c', content: 'out c' },
      { role: 'model', content: 'Done.' },
    ]);
  });

  it('leaves out a call that never got a result, which the upstream would refuse', () => {
    expect(answerTurns('Working.', [{ type: 'text', text: 'Working.' }, call('x')])).toEqual([{ role: 'model', content: 'Working.' }]);
  });
});
