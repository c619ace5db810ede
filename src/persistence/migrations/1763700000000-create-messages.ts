import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

// Written with TypeORM's schema API rather than raw SQL so the same migration runs on SQLite and PostgreSQL.
export class CreateMessages1763700000000 implements MigrationInterface {
  name = 'CreateMessages1763700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'messages',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'conversation_id', type: 'varchar', length: '36' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'content', type: 'text' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'error', type: 'text', isNullable: true },
          { name: 'model', type: 'varchar', length: '200', isNullable: true },
          { name: 'timestamp', type: 'varchar', length: '32' },
          { name: 'created_at', type: 'varchar', length: '32' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'messages',
      new TableIndex({ name: 'idx_messages_conversation_id_id', columnNames: ['conversation_id', 'id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('messages');
  }
}
