import { type MigrationInterface, type QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

export class ConversationsAndUsage1763800000000 implements MigrationInterface {
  name = 'ConversationsAndUsage1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'conversations',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'title', type: 'varchar', length: '200', isNullable: true },
          { name: 'created_at', type: 'varchar', length: '32' },
          { name: 'updated_at', type: 'varchar', length: '32' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'conversations',
      new TableIndex({ name: 'idx_conversations_updated_at_id', columnNames: ['updated_at', 'id'] }),
    );
    // Conversations that already have messages (the seed's default one) get their row.
    await queryRunner.query(
      `INSERT INTO conversations (id, title, created_at, updated_at)
       SELECT conversation_id, NULL, MIN(timestamp), MAX(timestamp) FROM messages GROUP BY conversation_id`,
    );
    await queryRunner.addColumns('messages', [
      new TableColumn({ name: 'prompt_tokens', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'completion_tokens', type: 'integer', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('messages', 'completion_tokens');
    await queryRunner.dropColumn('messages', 'prompt_tokens');
    await queryRunner.dropTable('conversations');
  }
}
