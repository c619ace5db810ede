import { Injectable, Logger } from '@nestjs/common';
import { RedisService } from './redis.service.js';

type Listener = (message: string) => void;

/** How long a subscription waits for a connection that is still being made (start-up, a reconnect). */
const READY_WAIT_MS = 1_000;

/**
 * Redis pub/sub for this process: any number of listeners per channel over the one subscriber
 * connection (a channel is subscribed while it has a listener), and publishing on the commands
 * connection. Messages from one publisher arrive in the order it sent them.
 */
@Injectable()
export class PubSub {
  private readonly logger = new Logger('PubSub');
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Each channel's SUBSCRIBE, so that a second listener also waits until messages can arrive. */
  private readonly subscribed = new Map<string, Promise<unknown>>();
  private dispatching = false;

  constructor(private readonly redis: RedisService) {}

  get enabled(): boolean {
    return this.redis.enabled;
  }

  /** Listens to a channel; resolves once subscribed, with what stops listening. */
  async listen(channel: string, listener: Listener): Promise<() => void> {
    const subscriber = this.redis.subscriber;
    if (!this.dispatching) {
      this.dispatching = true;
      subscriber.on('message', (from: string, message: string) => {
        for (const each of this.listeners.get(from) ?? []) {
          try {
            each(message);
          } catch (error) {
            this.logger.error(`A listener on ${from} failed: ${String(error)}`);
          }
        }
      });
      // After a reconnect, subscriptions are gone: ioredis resubscribes the channels it knows (autoResubscribe).
    }
    let set = this.listeners.get(channel);
    if (!set) {
      this.listeners.set(channel, (set = new Set()));
      this.subscribed.set(channel, this.redis.whenReady(subscriber, READY_WAIT_MS).then(() => subscriber.subscribe(channel)));
    }
    set.add(listener);
    const stop = () => {
      set.delete(listener);
      if (set.size > 0 || this.listeners.get(channel) !== set) return;
      this.listeners.delete(channel);
      this.subscribed.delete(channel);
      subscriber.unsubscribe(channel).catch(() => undefined);
    };
    try {
      await this.subscribed.get(channel);
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  /** Publishes; false (and nothing thrown) when Redis is away. */
  async publish(channel: string, message: string): Promise<boolean> {
    try {
      await this.redis.commands!.publish(channel, message);
      return true;
    } catch {
      return false;
    }
  }
}
