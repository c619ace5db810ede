import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MessageEntity } from './message.entity.js';

/**
 * An answer still marked `streaming` at start-up was cut off by a crash: no process is writing
 * it any more. On SQLite (one process per file) it is marked `interrupted`, with what had been
 * stored. A shared PostgreSQL may have other instances still streaming, so it is left alone there.
 */
@Injectable()
export class InterruptedAnswers implements OnApplicationBootstrap {
  private readonly logger = new Logger(InterruptedAnswers.name);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.dataSource.options.type !== 'better-sqlite3') return;
    const result = await this.dataSource
      .getRepository(MessageEntity)
      .update({ status: 'streaming' }, { status: 'interrupted', error: 'The server stopped before the answer was complete.' });
    if (result.affected) this.logger.warn(`Marked ${result.affected} answer(s) cut off by a previous stop as interrupted`);
  }
}
