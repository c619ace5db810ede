import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';

/**
 * Conversations get an owner (AUTH_MODE: 'local' is the single owner of AUTH_MODE=none, which
 * existing conversations keep), and answers being written record which server instance writes
 * them, so a crashed instance's answers can be told from a live one's on a shared database.
 */
export class OwnersAndInstances1763900000000 implements MigrationInterface {
  name = 'OwnersAndInstances1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'conversations',
      new TableColumn({ name: 'owner_id', type: 'varchar', length: '80', default: "'local'" }),
    );
    await queryRunner.dropIndex('conversations', 'idx_conversations_updated_at_id');
    await queryRunner.createIndex(
      'conversations',
      new TableIndex({ name: 'idx_conversations_owner_updated_at_id', columnNames: ['owner_id', 'updated_at', 'id'] }),
    );
    await queryRunner.addColumn('messages', new TableColumn({ name: 'instance_id', type: 'varchar', length: '36', isNullable: true }));
    await queryRunner.createIndex(
      'messages',
      new TableIndex({ name: 'idx_messages_streaming', columnNames: ['instance_id'], where: "status = 'streaming'" }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('messages', 'idx_messages_streaming');
    await queryRunner.dropColumn('messages', 'instance_id');
    await queryRunner.dropIndex('conversations', 'idx_conversations_owner_updated_at_id');
    await queryRunner.createIndex(
      'conversations',
      new TableIndex({ name: 'idx_conversations_updated_at_id', columnNames: ['updated_at', 'id'] }),
    );
    await queryRunner.dropColumn('conversations', 'owner_id');
  }
}
