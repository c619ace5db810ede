import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { instanceId } from './instance-id.js';
import { MessageEntity } from './message.entity.js';

const INTERRUPTED_ERROR = 'The server stopped before the answer was complete.';

/**
 * An answer still marked `streaming` whose writer is gone was cut off by a crash (kill -9, OOM,
 * power): it is marked `interrupted`, keeping the text stored so far.
 *
 * SQLite is one process per file, so at start-up every `streaming` answer is such a one.
 * On a shared PostgreSQL other instances may be streaming right now. Each instance holds a
 * session advisory lock keyed by its id on a connection of its own for as long as it lives;
 * PostgreSQL drops the lock the moment that connection dies with the process. At start-up and
 * every RECOVERY_SWEEP_INTERVAL_MS (30 s), an instance takes each writer's lock it can get: got it, the writer
 * is dead, and its answers are marked.
 */
@Injectable()
export class InterruptedAnswers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InterruptedAnswers.name);
  private lease: pg.Client | undefined;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.database.type === 'sqlite') {
      this.report(await this.markInterrupted(null, true));
      return;
    }
    await this.takeLease(this.config.database.url);
    this.report(await this.sweep());
    this.sweepTimer = setInterval(() => {
      this.sweepSafely();
    }, this.config.recoverySweepMs);
    this.sweepTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    await this.lease?.end().catch(() => undefined);
  }

  /** Marks the answers of every dead writer; returns how many. PostgreSQL only. */
  async sweep(): Promise<number> {
    const lease = this.lease;
    if (!lease) return 0;
    const writers = await lease.query<{ instance_id: string | null }>(
      `SELECT DISTINCT instance_id FROM messages WHERE status = 'streaming'`,
    );
    let marked = 0;
    for (const { instance_id: writer } of writers.rows) {
      if (writer === instanceId) continue;
      if (writer === null) {
        marked += await this.markInterrupted(null, false); // written before instances were recorded
        continue;
      }
      const { rows } = await lease.query<{ dead: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS dead', [writer]);
      if (!rows[0].dead) continue;
      try {
        marked += await this.markInterrupted(writer, false);
      } finally {
        await lease.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [writer]);
      }
    }
    return marked;
  }

  private async takeLease(url: string): Promise<void> {
    // Loaded here, not at the top: a SQLite deployment never loads the PostgreSQL driver.
    const { Client } = (await import('pg')).default;
    const client = new Client({ connectionString: url, application_name: `chat instance ${instanceId}` });
    client.on('error', (error) => {
      this.logger.error(`Lost the instance lease connection (${error.message}); taking a new one at the next sweep`);
      if (this.lease === client) this.lease = undefined;
    });
    await client.connect();
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [instanceId]);
    this.lease = client;
  }

  private sweepSafely(): void {
    const run = async () => {
      if (!this.lease && this.config.database.type === 'postgres') await this.takeLease(this.config.database.url);
      this.report(await this.sweep());
    };
    run().catch((error: unknown) => {
      if (!this.stopped) this.logger.error(`Looking for interrupted answers failed: ${String(error)}`);
    });
  }

  /** `writer` null with `all`: every streaming answer; null alone: those with no recorded writer. */
  private async markInterrupted(writer: string | null, all: boolean): Promise<number> {
    const query = this.dataSource
      .createQueryBuilder()
      .update(MessageEntity)
      .set({ status: 'interrupted', error: INTERRUPTED_ERROR })
      .where(`status = 'streaming'`);
    if (!all) query.andWhere(writer === null ? 'instance_id IS NULL' : 'instance_id = :writer', { writer });
    return (await query.execute()).affected ?? 0;
  }

  private report(marked: number): void {
    if (marked > 0) this.logger.warn(`Marked ${marked} answer(s) cut off by a stopped server as interrupted`);
  }
}
