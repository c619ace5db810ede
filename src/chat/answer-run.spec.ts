import { ConflictException } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { AgentError } from '../agent/agent-error.js';
import type { AgentEvent } from '../agent/agent.service.js';
import type { ConversationTurn, TokenUsage } from '../agent/chat-model.js';
import { MessageEntity } from '../persistence/message.entity.js';
import type { AnswerOutcome } from '../persistence/message.repository.js';
import { AnswerRun, type AnswerEvent, type AnswerProgress, type AnswerRunOptions, type AnswerRunState, type AnswerRunSteps, type ReservedAnswer } from './answer-run.js';

/** The model's output as the test writes it: all the text so far, and the usage once reported. */
interface CumulativeProgress {
  readonly text: string;
  readonly usage: TokenUsage | null;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function message(id: number, role: 'user' | 'model', content: string): MessageEntity {
  return Object.assign(new MessageEntity(), { id, conversationId: 'c1', role, content, status: role === 'user' ? 'complete' : 'streaming', timestamp: `t${id}` });
}

const RESERVED: ReservedAnswer = { prompt: message(1, 'user', 'question'), answer: message(2, 'model', '') };

/** Storage and model steps the test completes by hand, recording what the run asked of them. */
class ManualSteps implements AnswerRunSteps {
  readonly reserving = deferred<ReservedAnswer>();
  readonly reading = deferred<readonly ConversationTurn[]>();
  readonly storing = deferred<void>();
  /** Written as cumulative progress; the run gets it as the agent's events (new text, then usage). */
  readonly model = new Subject<CumulativeProgress>();
  modelCalls = 0;
  modelAborted = false;
  readonly stored: AnswerOutcome[] = [];
  readonly checkpoints: string[] = [];

  reserve(): Promise<ReservedAnswer> {
    return this.reserving.promise;
  }

  context(): Promise<readonly ConversationTurn[]> {
    return this.reading.promise;
  }

  answer(): Observable<AgentEvent> {
    this.modelCalls++;
    return new Observable<AgentEvent>((subscriber) => {
      let ended = false;
      let sentText = '';
      const subscription = this.model.subscribe({
        next: (progress) => {
          if (progress.text.length > sentText.length) subscriber.next({ type: 'text', text: progress.text.slice(sentText.length) });
          sentText = progress.text;
          if (progress.usage) subscriber.next({ type: 'usage', usage: progress.usage });
        },
        error: (error: unknown) => ((ended = true), subscriber.error(error)),
        complete: () => ((ended = true), subscriber.complete()),
      });
      return () => {
        if (!ended) this.modelAborted = true;
        subscription.unsubscribe();
      };
    });
  }

  checkpoint(_reserved: ReservedAnswer, { text }: AnswerProgress): Promise<void> {
    this.checkpoints.push(text);
    return Promise.resolve();
  }

  async store(reserved: ReservedAnswer, outcome: AnswerOutcome): Promise<MessageEntity> {
    this.stored.push(outcome);
    await this.storing.promise;
    return Object.assign(new MessageEntity(), reserved.answer, { content: outcome.content, status: outcome.status, error: outcome.error ?? null });
  }
}

const ABORT: AnswerRunOptions = { debounceMs: 0, whenAbandoned: 'abort', maxDurationMs: 0, checkpointMs: 0 };

function startRun(options: AnswerRunOptions = ABORT) {
  const steps = new ManualSteps();
  const run = new AnswerRun('c1', 'owner', steps, options).start();
  const events: AnswerEvent[] = [];
  let failure: unknown;
  let completed = false;
  const subscription = run.events().subscribe({
    next: (event) => events.push(event),
    error: (error: unknown) => (failure = error),
    complete: () => (completed = true),
  });
  return { steps, run, events, subscription, failure: () => failure, completed: () => completed };
}

type Started = ReturnType<typeof startRun>;

/** Brings a run to a state: `starting` (before or after its rows are stored), `streaming` (with some text), `finishing` (storing a complete answer). */
async function bringTo(state: 'reserving' | 'reading' | 'streaming' | 'finishing', options: AnswerRunOptions = ABORT): Promise<Started> {
  const started = startRun(options);
  const { steps } = started;
  if (state === 'reserving') return started;
  steps.reserving.resolve(RESERVED);
  await flush();
  if (state === 'reading') return started;
  steps.reading.resolve([{ role: 'user', content: 'question' }]);
  await flush();
  steps.model.next({ text: 'Hello', usage: null });
  if (state === 'streaming') return started;
  steps.model.next({ text: 'Hello there', usage: { promptTokens: 3, completionTokens: 2 } });
  steps.model.complete();
  await flush();
  return started;
}

const types = (events: AnswerEvent[]) => events.map((e) => e.type);

describe('AnswerRun', () => {
  it('goes starting → streaming → finishing → done, storing the whole text and usage', async () => {
    const { steps, run, events, completed } = startRun();
    expect(run.state).toBe('starting');
    steps.reserving.resolve(RESERVED);
    await flush();
    expect(types(events)).toEqual(['start']);
    expect(run.state).toBe('starting'); // still reading the context
    steps.reading.resolve([{ role: 'user', content: 'question' }]);
    await flush();
    expect(run.state).toBe('streaming');
    steps.model.next({ text: 'Hel', usage: null });
    steps.model.next({ text: 'Hello', usage: null });
    steps.model.next({ text: 'Hello', usage: { promptTokens: 3, completionTokens: 1 } });
    expect(run.text).toBe('Hello');
    steps.model.complete();
    expect(run.state).toBe('finishing');
    expect(steps.stored).toEqual([{ status: 'complete', error: null, content: 'Hello', usage: { promptTokens: 3, completionTokens: 1 } }]);
    steps.storing.resolve();
    await run.settled;
    expect(run.state).toBe('done');
    expect(run.status).toBe('complete');
    // The usage report after the last token adds no second, identical text event.
    expect(events.map((e) => (e.type === 'text' ? e.text : e.type))).toEqual(['start', 'Hel', 'Hello', 'done']);
    expect(completed()).toBe(true);
  });

  it('gives a late subscriber the start and the text so far, then the live events', async () => {
    const { steps, run } = await bringTo('streaming');
    const late: AnswerEvent[] = [];
    run.events().subscribe((event) => late.push(event));
    expect(late).toEqual([{ type: 'start', prompt: RESERVED.prompt, answer: RESERVED.answer }, { type: 'text', text: 'Hello' }]);
    steps.model.next({ text: 'Hello you', usage: null });
    steps.model.complete();
    steps.storing.resolve();
    await run.settled;
    expect(types(late)).toEqual(['start', 'text', 'text', 'done']);
    // After the end, a subscriber gets the start and the outcome at once.
    const after: AnswerEvent[] = [];
    run.events().subscribe((event) => after.push(event));
    expect(types(after)).toEqual(['start', 'done']);
  });

  it('is refused, with nothing stored, when its rows cannot be reserved', async () => {
    const { steps, run, events, failure } = startRun();
    const refusal = new ConflictException('There is no prompt to regenerate an answer for');
    steps.reserving.reject(refusal);
    await run.settled;
    expect(run.state).toBe('done');
    expect(run.status).toBeUndefined();
    expect(failure()).toBe(refusal);
    expect(events).toEqual([]);
    expect(steps.stored).toEqual([]);
    expect(steps.modelCalls).toBe(0);
    let lateFailure: unknown;
    run.events().subscribe({ error: (error: unknown) => (lateFailure = error) });
    expect(lateFailure).toBe(refusal);
  });

  it('stores a model failure as an error with the text so far', async () => {
    const { steps, run, events } = await bringTo('streaming');
    steps.model.error(new AgentError('The model server answered HTTP 500.'));
    steps.storing.resolve();
    await run.settled;
    expect(steps.stored).toEqual([{ status: 'error', error: 'The model server answered HTTP 500.', content: 'Hello', usage: null }]);
    expect(events.at(-1)).toMatchObject({ type: 'error', message: 'The model server answered HTTP 500.' });
    expect(run.status).toBe('error');
  });

  describe('shutdown arriving', () => {
    const SHUTDOWN = expect.stringMatching(/shutting down/) as unknown as string;

    it('while its rows are being stored: the answer is stored interrupted once they are, and the model is never called', async () => {
      const { steps, run, events } = await bringTo('reserving');
      const stopped = run.stop('shutdown');
      steps.reserving.resolve(RESERVED);
      steps.storing.resolve();
      await stopped;
      expect(steps.modelCalls).toBe(0);
      expect(steps.stored).toEqual([{ status: 'interrupted', error: SHUTDOWN, content: '', usage: null }]);
      expect(types(events)).toEqual(['start', 'error']);
      expect(run.state).toBe('done');
    });

    it('while the context is read: stored interrupted, the model never called', async () => {
      const { steps, run, events } = await bringTo('reading');
      const stopped = run.stop('shutdown');
      steps.reading.resolve([]);
      steps.storing.resolve();
      await stopped;
      expect(steps.modelCalls).toBe(0);
      expect(steps.stored).toEqual([{ status: 'interrupted', error: SHUTDOWN, content: '', usage: null }]);
      expect(events.at(-1)).toMatchObject({ type: 'error', message: SHUTDOWN });
    });

    it('while streaming: the model call is aborted and the text so far stored interrupted', async () => {
      const { steps, run, events } = await bringTo('streaming');
      const stopped = run.stop('shutdown');
      expect(steps.modelAborted).toBe(true);
      expect(run.state).toBe('finishing');
      steps.storing.resolve();
      await stopped;
      expect(steps.stored).toEqual([{ status: 'interrupted', error: SHUTDOWN, content: 'Hello', usage: null }]);
      expect(types(events)).toEqual(['start', 'text', 'error']);
      expect(run.status).toBe('interrupted');
    });

    it('while finishing: waits for the outcome being stored, and changes nothing', async () => {
      const { steps, run, events } = await bringTo('finishing');
      let stoppedYet = false;
      const stopped = run.stop('shutdown').then(() => (stoppedYet = true));
      await flush();
      expect(stoppedYet).toBe(false);
      steps.storing.resolve();
      await stopped;
      expect(steps.stored.map((o) => o.status)).toEqual(['complete']);
      expect(events.at(-1)?.type).toBe('done');
    });

    it('when done: resolves at once', async () => {
      const { steps, run } = await bringTo('finishing');
      steps.storing.resolve();
      await run.settled;
      await run.stop('shutdown');
      expect(steps.stored).toHaveLength(1);
      expect(run.status).toBe('complete');
    });
  });

  describe('the last subscriber leaving (whenAbandoned: abort)', () => {
    it('while its rows are being stored: stored interrupted once they are, without a reason', async () => {
      const { steps, run, subscription } = await bringTo('reserving');
      subscription.unsubscribe();
      steps.reserving.resolve(RESERVED);
      steps.storing.resolve();
      await run.settled;
      expect(steps.modelCalls).toBe(0);
      expect(steps.stored).toEqual([{ status: 'interrupted', error: null, content: '', usage: null }]);
    });

    it('while the context is read: stored interrupted, the model never called', async () => {
      const { steps, run, subscription } = await bringTo('reading');
      subscription.unsubscribe();
      steps.reading.resolve([]);
      steps.storing.resolve();
      await run.settled;
      expect(steps.modelCalls).toBe(0);
      expect(steps.stored.map((o) => o.status)).toEqual(['interrupted']);
    });

    it('while streaming: the model call is aborted, the text so far stored interrupted', async () => {
      const { steps, run, subscription } = await bringTo('streaming');
      subscription.unsubscribe();
      expect(steps.modelAborted).toBe(true);
      steps.storing.resolve();
      await run.settled;
      expect(steps.stored).toEqual([{ status: 'interrupted', error: null, content: 'Hello', usage: null }]);
    });

    it('while finishing: the answer is stored as it ended', async () => {
      const { steps, run, subscription } = await bringTo('finishing');
      subscription.unsubscribe();
      steps.storing.resolve();
      await run.settled;
      expect(steps.stored.map((o) => o.status)).toEqual(['complete']);
      expect(run.status).toBe('complete');
    });

    it('when done: nothing happens', async () => {
      const { steps, run, subscription } = await bringTo('finishing');
      steps.storing.resolve();
      await run.settled;
      subscription.unsubscribe();
      expect(steps.stored).toHaveLength(1);
      expect(run.state).toBe('done');
    });

    it('only the last one counts: with another subscriber left the answer goes on', async () => {
      const { steps, run, subscription } = await bringTo('streaming');
      const other: AnswerEvent[] = [];
      run.events().subscribe((event) => other.push(event));
      subscription.unsubscribe();
      expect(steps.modelAborted).toBe(false);
      steps.model.next({ text: 'Hello world', usage: null });
      steps.model.complete();
      steps.storing.resolve();
      await run.settled;
      expect(steps.stored.map((o) => [o.status, o.content])).toEqual([['complete', 'Hello world']]);
      expect(types(other)).toEqual(['start', 'text', 'text', 'done']);
    });
  });

  it.each<AnswerRunState>(['starting', 'streaming'])('with whenAbandoned: continue, runs to its end after the last subscriber left while %s', async (state) => {
    const { steps, run, subscription } = await bringTo(state === 'starting' ? 'reading' : 'streaming', { ...ABORT, whenAbandoned: 'continue' });
    subscription.unsubscribe();
    if (state === 'starting') {
      steps.reading.resolve([]);
      await flush();
      steps.model.next({ text: 'Hello', usage: null });
    }
    steps.model.next({ text: 'Hello, unheard', usage: null });
    steps.model.complete();
    steps.storing.resolve();
    await run.settled;
    expect(steps.modelAborted).toBe(false);
    expect(steps.stored.map((o) => [o.status, o.content])).toEqual([['complete', 'Hello, unheard']]);
  });

  it('stops when asked: the model call is aborted, the text so far stored interrupted, and the subscribers told it was stopped', async () => {
    const { steps, run, events } = await bringTo('streaming');
    const stopped = run.stop('stopped');
    expect(steps.modelAborted).toBe(true);
    steps.storing.resolve();
    await stopped;
    expect(steps.stored).toEqual([{ status: 'interrupted', error: 'The answer was stopped.', content: 'Hello', usage: null }]);
    expect(events.at(-1)).toMatchObject({ type: 'error', message: 'The answer was stopped.', stopped: true });
  });

  it('sends the text its debounce held back before it tells the subscribers it stopped: they show what is stored', async () => {
    const { steps, run, events } = await bringTo('streaming', { ...ABORT, debounceMs: 60_000 });
    steps.model.next({ text: 'Hello there', usage: null }); // within the window: held back
    expect(events.filter((e) => e.type === 'text').at(-1)).toEqual({ type: 'text', text: 'Hello' });
    const stopped = run.stop('stopped');
    steps.storing.resolve();
    await stopped;
    expect(steps.stored[0].content).toBe('Hello there');
    expect(events.slice(-2)).toMatchObject([{ type: 'text', text: 'Hello there' }, { type: 'error', stopped: true }]);
  });

  it('stops itself once it has run for maxDurationMs', async () => {
    const { steps, run, events } = await bringTo('streaming', { ...ABORT, maxDurationMs: 30 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(steps.modelAborted).toBe(true);
    steps.storing.resolve();
    await run.settled;
    expect(steps.stored).toEqual([{ status: 'interrupted', error: expect.stringMatching(/ANSWER_MAX_DURATION_MS/), content: 'Hello', usage: null }]);
    expect(events.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/longer than/) });
  });

  it('checkpoints the text so far at most once per checkpointMs while it streams, never after the end', async () => {
    const { steps, run } = await bringTo('streaming', { ...ABORT, checkpointMs: 20 });
    steps.model.next({ text: 'Hello again', usage: null }); // within the first interval: no checkpoint
    expect(steps.checkpoints).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    steps.model.next({ text: 'Hello again and', usage: null });
    steps.model.next({ text: 'Hello again and again', usage: null }); // within the next interval
    await flush();
    expect(steps.checkpoints).toEqual(['Hello again and']);
    steps.model.complete();
    steps.storing.resolve();
    await run.settled;
    expect(steps.checkpoints).toEqual(['Hello again and']);
    expect(steps.stored.map((o) => o.content)).toEqual(['Hello again and again']);
  });

  describe('a storage failure', () => {
    it('while reserving: refused with the storage error, nothing else happens', async () => {
      const { steps, run, failure } = startRun();
      steps.reserving.reject(new Error('disk I/O error'));
      await run.settled;
      expect(failure()).toEqual(new Error('disk I/O error'));
      expect(steps.stored).toEqual([]);
    });

    it('while reading the context: the answer is stored as an error and the subscribers told', async () => {
      const { steps, run, events } = await bringTo('reading');
      steps.reading.reject(new Error('connection lost'));
      steps.storing.resolve();
      await run.settled;
      expect(steps.modelCalls).toBe(0);
      expect(steps.stored).toEqual([{ status: 'error', error: 'The answer could not be started.', content: '', usage: null }]);
      expect(events.at(-1)).toMatchObject({ type: 'error', message: 'The answer could not be started.' });
    });

    it('while storing the outcome: the subscribers get an error, and the run ends', async () => {
      const { steps, run, events, completed } = await bringTo('finishing');
      steps.storing.reject(new Error('disk full'));
      await run.settled;
      expect(run.state).toBe('done');
      expect(run.status).toBe('error');
      expect(events.at(-1)).toMatchObject({ type: 'error', message: 'The answer could not be saved.', answer: RESERVED.answer });
      expect(completed()).toBe(true);
    });

    it('while storing an interrupted answer: the subscribers get the reason it ended', async () => {
      const { steps, run, events } = await bringTo('streaming');
      const stopped = run.stop('shutdown');
      steps.storing.reject(new Error('disk full'));
      await stopped;
      expect(events.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/shutting down/) });
    });
  });
});
