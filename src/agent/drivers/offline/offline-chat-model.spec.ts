import { OfflineChatModel, offlineAnswer } from './offline-chat-model.js';

import type { ModelChunk } from '../../chat-model.js';

async function collect(iterable: AsyncIterable<ModelChunk>): Promise<string[]> {
  const parts: string[] = [];
  for await (const chunk of iterable) if ('text' in chunk) parts.push(chunk.text);
  return parts;
}

describe('OfflineChatModel', () => {
  const request = {
    systemPrompt: undefined,
    turns: [
      { role: 'user' as const, content: 'first' },
      { role: 'model' as const, content: 'an answer' },
      { role: 'user' as const, content: 'What is **2+2**?' },
    ],
  };

  it('streams a deterministic markdown answer word by word', async () => {
    const model = new OfflineChatModel(0);
    const first = await collect(model.streamText(request, new AbortController().signal));
    const second = await collect(model.streamText(request, new AbortController().signal));
    expect(first).toEqual(second);
    expect(first.length).toBeGreaterThan(20);
    expect(first.join('')).toBe(offlineAnswer(request));
    for (const word of first) expect(word.trim().split(/\s+/)).toHaveLength(1);
  });

  it('says it is the offline model, quotes the prompt and says how to configure a real one', () => {
    const answer = offlineAnswer(request);
    expect(answer).toMatch(/offline model/i);
    expect(answer).toContain('> What is **2+2**?');
    expect(answer).toContain('2 earlier messages');
    expect(answer).toContain('OPENAI_API_KEY');
    expect(answer).toContain('OPENAI_BASE_URL');
  });

  it('stops when aborted', async () => {
    const model = new OfflineChatModel(5);
    const abort = new AbortController();
    const parts: string[] = [];
    for await (const chunk of model.streamText(request, abort.signal)) {
      if ('text' in chunk) parts.push(chunk.text);
      if (parts.length === 3) abort.abort();
    }
    expect(parts).toHaveLength(3);
  });

  it('labels itself offline', () => {
    const model = new OfflineChatModel();
    expect(model.offline).toBe(true);
    expect(model.name).toBe('offline');
  });
});
