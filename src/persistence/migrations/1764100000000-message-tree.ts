import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';

/**
 * Messages form a tree (issue 15): each has the message it follows (`parent_id`, null for a
 * conversation's first prompt), so an edited prompt or a regenerated answer is a sibling that
 * keeps the earlier version. A conversation names its active leaf (`active_message_id`): the
 * path from the root down to it is what the conversation shows and what answers see. Existing
 * conversations become linear chains (each message follows the one before it), so their active
 * path is exactly what they showed before. Conversations also get an optional model and system
 * prompt; AI SDK prompts keep the id the client gave them (`client_message_id`), which is how
 * an edit made in `useChat` finds the prompt it replaces.
 */
export class MessageTree1764100000000 implements MigrationInterface {
  name = 'MessageTree1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('messages', [
      new TableColumn({ name: 'parent_id', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'client_message_id', type: 'varchar', length: '200', isNullable: true }),
    ]);
    // Linear chains: a seek on (conversation_id, id) per row.
    await queryRunner.query(
      `UPDATE messages SET parent_id = (
         SELECT MAX(p.id) FROM messages p WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id
       )`,
    );
    // Children of a message (siblings of a branch) and a conversation's first prompts (parent_id NULL).
    await queryRunner.createIndex(
      'messages',
      new TableIndex({ name: 'idx_messages_conversation_parent_id', columnNames: ['conversation_id', 'parent_id', 'id'] }),
    );
    await queryRunner.createIndex(
      'messages',
      new TableIndex({
        name: 'idx_messages_client_message_id',
        columnNames: ['conversation_id', 'client_message_id'],
        where: 'client_message_id IS NOT NULL',
      }),
    );
    await queryRunner.addColumns('conversations', [
      new TableColumn({ name: 'active_message_id', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'model', type: 'varchar', length: '200', isNullable: true }),
      new TableColumn({ name: 'system_prompt', type: 'text', isNullable: true }),
    ]);
    await queryRunner.query(
      `UPDATE conversations SET active_message_id = (SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = conversations.id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('conversations', 'system_prompt');
    await queryRunner.dropColumn('conversations', 'model');
    await queryRunner.dropColumn('conversations', 'active_message_id');
    await queryRunner.dropIndex('messages', 'idx_messages_client_message_id');
    await queryRunner.dropIndex('messages', 'idx_messages_conversation_parent_id');
    await queryRunner.dropColumn('messages', 'client_message_id');
    await queryRunner.dropColumn('messages', 'parent_id');
  }
}
