import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Observable } from 'rxjs';
import { instanceId } from '../persistence/instance-id.js';
import { PubSub } from '../redis/pub-sub.js';
import { RedisService } from '../redis/redis.service.js';
import type { AnswerEvent, AnswerRun } from './answer-run.js';
import { AnswerRunRegistry } from './answer-run.registry.js';

/** How long a running answer's entry lives without its instance renewing it: a dead instance's answers vanish from the directory after this. */
const DIRECTORY_TTL_MS = 30_000;
const RENEW_EVERY_MS = 10_000;
/** How long a reader on another instance waits for the running instance to answer before taking it for gone. */
const ATTACH_TIMEOUT_MS = 3_000;
const STOP_TIMEOUT_MS = 10_000;
const RESUBSCRIBE_EVERY_MS = 2_000;

/** Where the answer running in a conversation is: which instance, whose, which row. */
interface DirectoryEntry {
  readonly instance: string;
  readonly ownerId: string;
  readonly answerId: number;
}

/** Asked of the instance that runs an answer. */
interface ControlMessage {
  readonly type: 'attach' | 'stop';
  readonly conversationId: string;
  readonly ownerId: string;
}

/** On a conversation's events channel, in the order the running instance sent them. */
type RelayMessage =
  | { readonly type: 'snapshot'; readonly events: readonly AnswerEvent[] }
  | { readonly type: 'event'; readonly event: AnswerEvent }
  /** The text that arrived since the last delta (or the snapshot): text events are cumulative, and resending them would cost Redis the square of the answer. */
  | { readonly type: 'delta'; readonly text: string }
  | { readonly type: 'none' }
  | { readonly type: 'stopped' };

const directoryKey = (conversationId: string) => `chat:answer:${conversationId}`;
const eventsChannel = (conversationId: string) => `chat:answer:${conversationId}:events`;
const controlChannel = (instance: string) => `chat:instance:${instance}`;

/** Deletes the key only while it still names this entry: a newer answer in the conversation may have replaced it. */
const DELETE_IF_SAME = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export class RelayUnavailableError extends Error {}

/**
 * Answers across instances, over Redis (REDIS_URL). The instance running an answer lists it in a
 * directory key per conversation (renewed while it runs) and listens on a control channel of its
 * own; another instance that is asked to resume or stop that answer sends `attach` or `stop`
 * there. On `attach`, the running instance publishes a snapshot (the answer's start and all its
 * text so far) on the conversation's events channel and from then on every event, so a reader
 * that subscribed before asking misses nothing. Nothing is published for answers nobody reads
 * from elsewhere. Without REDIS_URL all of this is off and answers are reached on their own
 * instance only.
 */
@Injectable()
export class AnswerRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AnswerRelay.name);
  /** Local runs whose events go out on their conversation's channel, with how much of their text has gone out. */
  private readonly relayed = new WeakMap<AnswerRun, { sent: number }>();
  private stopControl: (() => void) | undefined;
  private resubscribe: ReturnType<typeof setTimeout> | undefined;
  private closing = false;

  constructor(
    private readonly redis: RedisService,
    private readonly pubsub: PubSub,
    private readonly runs: AnswerRunRegistry,
  ) {}

  get enabled(): boolean {
    return this.redis.enabled;
  }

  /** Listens for requests from other instances before the app takes requests (a short wait while Redis connects). */
  async onApplicationBootstrap(): Promise<void> {
    if (this.enabled) await this.listenForControl();
  }

  onApplicationShutdown(): void {
    this.closing = true;
    clearTimeout(this.resubscribe);
    this.stopControl?.();
  }

  /** Lists a local run in the directory once its rows are stored, and relays its events when asked. */
  announce(run: AnswerRun): void {
    if (!this.enabled) return;
    let entry: string | undefined;
    let renew: ReturnType<typeof setInterval> | undefined;
    const key = directoryKey(run.conversationId);
    run.watch().subscribe({
      next: (event) => {
        if (event.type === 'start') {
          entry = JSON.stringify({ instance: instanceId, ownerId: run.ownerId, answerId: event.answer.id } satisfies DirectoryEntry);
          void this.command((redis) => redis.set(key, entry!, 'PX', DIRECTORY_TTL_MS));
          renew = setInterval(() => void this.command((redis) => redis.pexpire(key, DIRECTORY_TTL_MS)), RENEW_EVERY_MS);
          renew.unref();
        }
        const relay = this.relayed.get(run);
        if (!relay) return;
        let message: RelayMessage = { type: 'event', event };
        if (event.type === 'text') {
          message = { type: 'delta', text: event.text.slice(relay.sent) };
          relay.sent = event.text.length;
        }
        void this.pubsub.publish(eventsChannel(run.conversationId), JSON.stringify(message));
      },
      error: () => undefined, // refused before its rows were stored: never listed
      complete: () => {
        clearInterval(renew);
        if (entry) void this.command((redis) => redis.eval(DELETE_IF_SAME, 1, key, entry!));
      },
    });
  }

  /**
   * The answer running on another instance in the owner's conversation, as events from its
   * beginning; undefined when none runs (or its instance does not answer). Fails with
   * RelayUnavailableError when Redis cannot be reached.
   */
  async attach(conversationId: string, ownerId: string): Promise<Observable<AnswerEvent> | undefined> {
    const entry = await this.remoteEntry(conversationId, ownerId);
    if (!entry) return undefined;
    const buffered: AnswerEvent[] = [];
    let text = '';
    let deliver: ((event: AnswerEvent) => void) | undefined;
    let end: (() => void) | undefined;
    let ended = false;
    let started: ((found: boolean) => void) | undefined;
    const found = new Promise<boolean>((resolve) => (started = resolve));
    const push = (event: AnswerEvent) => {
      if (deliver) deliver(event);
      else buffered.push(event);
      if (event.type === 'done' || event.type === 'error') {
        ended = true;
        end?.();
      }
    };
    const stopListening = await this.unavailableUnless(
      this.pubsub.listen(eventsChannel(conversationId), (raw) => {
        const message = JSON.parse(raw) as RelayMessage;
        if (started) {
          // What came before the first snapshot is in it.
          if (message.type === 'snapshot') {
            started(true);
            started = undefined;
            for (const event of message.events) {
              if (event.type === 'text') text = event.text;
              push(event);
            }
          } else if (message.type === 'none') {
            started(false);
          }
          return;
        }
        if (message.type === 'delta') {
          text += message.text;
          push({ type: 'text', text });
        } else if (message.type === 'event') {
          push(message.event);
        }
      }),
    );
    const asked = await this.pubsub.publish(controlChannel(entry.instance), JSON.stringify({ type: 'attach', conversationId, ownerId } satisfies ControlMessage));
    const answered = asked && (await withTimeout(found, ATTACH_TIMEOUT_MS, false));
    if (!answered) {
      stopListening();
      if (!asked) throw new RelayUnavailableError('Redis is not reachable');
      return undefined;
    }
    return new Observable<AnswerEvent>((subscriber) => {
      for (const event of buffered.splice(0)) subscriber.next(event);
      if (ended) {
        stopListening();
        return subscriber.complete();
      }
      deliver = (event) => subscriber.next(event);
      end = () => {
        stopListening();
        subscriber.complete();
      };
      return () => stopListening();
    });
  }

  /** Stops the answer running on another instance in the owner's conversation, if any; resolves once it is stored (or after a timeout). */
  async stop(conversationId: string, ownerId: string): Promise<void> {
    const entry = await this.remoteEntry(conversationId, ownerId);
    if (!entry) return;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const stopListening = await this.unavailableUnless(
      this.pubsub.listen(eventsChannel(conversationId), (raw) => {
        const type = (JSON.parse(raw) as RelayMessage).type;
        if (type === 'stopped' || type === 'none') settle();
      }),
    );
    try {
      const asked = await this.pubsub.publish(controlChannel(entry.instance), JSON.stringify({ type: 'stop', conversationId, ownerId } satisfies ControlMessage));
      if (!asked) throw new RelayUnavailableError('Redis is not reachable');
      await withTimeout(settled, STOP_TIMEOUT_MS, undefined);
    } finally {
      stopListening();
    }
  }

  /** Another instance's answer in the owner's conversation, from the directory. */
  private async remoteEntry(conversationId: string, ownerId: string): Promise<DirectoryEntry | undefined> {
    if (!this.enabled) return undefined;
    const raw = await this.unavailableUnless(this.redis.commands!.get(directoryKey(conversationId)));
    if (!raw) return undefined;
    const entry = JSON.parse(raw) as DirectoryEntry;
    // Another owner's answer is as absent as none; our own runs are found in the registry.
    return entry.ownerId === ownerId && entry.instance !== instanceId ? entry : undefined;
  }

  private async onControl(raw: string): Promise<void> {
    const message = JSON.parse(raw) as ControlMessage;
    const channel = eventsChannel(message.conversationId);
    const run = this.runs.find(message.conversationId, message.ownerId);
    const reply = (value: RelayMessage) => this.pubsub.publish(channel, JSON.stringify(value));
    if (!run) return void (await reply({ type: 'none' }));
    if (message.type === 'stop') {
      await run.stop('stopped');
      return void (await reply({ type: 'stopped' }));
    }
    // Readers already attached go on from the deltas sent so far, so a later snapshot carries
    // exactly that much text: the next delta continues it for everyone.
    // The snapshot is what the run sent so far, the same for every reader; the events after it
    // are published as they go out.
    const reserved = run.reserved;
    if (!reserved) return void (await reply({ type: 'snapshot', events: [] })); // its rows are being stored: it starts now
    const sent = run.replay;
    if (!this.relayed.has(run)) this.relayed.set(run, { sent: sent.findLast((event) => event.type === 'text')?.text.length ?? 0 });
    await reply({ type: 'snapshot', events: [{ type: 'start', prompt: reserved.prompt, answer: reserved.answer }, ...sent] });
  }

  /** Listens on this instance's control channel, retrying while Redis is away at start-up. */
  private async listenForControl(): Promise<void> {
    try {
      this.stopControl = await this.pubsub.listen(controlChannel(instanceId), (raw) => void this.onControl(raw));
    } catch {
      if (this.closing) return;
      this.resubscribe = setTimeout(() => void this.listenForControl(), RESUBSCRIBE_EVERY_MS);
      this.resubscribe.unref();
    }
  }

  private async command(work: (redis: NonNullable<RedisService['commands']>) => Promise<unknown>): Promise<void> {
    try {
      await work(this.redis.commands!);
    } catch (error) {
      this.logger.debug(`A directory update was lost while Redis is away: ${String(error)}`);
    }
  }

  private async unavailableUnless<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      throw new RelayUnavailableError(`Redis is not reachable: ${String(error)}`);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]).finally(() => clearTimeout(timer));
}
