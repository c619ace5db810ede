import { randomUUID } from 'node:crypto';

/**
 * This process, among the instances sharing a database: written on the answers it streams,
 * and the key of the PostgreSQL advisory lock it holds while it lives (see InterruptedAnswers).
 */
export const instanceId = randomUUID();
