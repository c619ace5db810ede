import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * An answer keeps its parts in order (text, tool calls, tool results) as JSON beside its text.
 * Null for answers that are only text: every answer before this, and most after it.
 */
export class ToolParts1764000000000 implements MigrationInterface {
  name = 'ToolParts1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('messages', new TableColumn({ name: 'parts', type: 'text', isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('messages', 'parts');
  }
}
