import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * better-sqlite3 is one connection shared by every query runner: two transactions whose
 * statements interleave would nest BEGINs, so on SQLite write transactions take turns.
 * PostgreSQL has a pool and row locks; there the queue is a pass-through.
 */
@Injectable()
export class WriteQueue {
  private readonly serialize: boolean;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.serialize = dataSource.options.type === 'better-sqlite3';
  }

  run<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.serialize) return operation();
    const result = this.tail.then(operation, operation);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
