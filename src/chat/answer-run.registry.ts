import { Injectable } from '@nestjs/common';
import type { AnswerRun } from './answer-run.js';

/**
 * The answers in progress in this process, by conversation: how a later request (a resume, a
 * stop, shutdown) finds a run it did not start. A run leaves once its outcome is stored.
 */
@Injectable()
export class AnswerRunRegistry {
  private readonly byConversation = new Map<string, Set<AnswerRun>>();

  add(run: AnswerRun): void {
    let runs = this.byConversation.get(run.conversationId);
    if (!runs) this.byConversation.set(run.conversationId, (runs = new Set()));
    runs.add(run);
    void run.settled.then(() => {
      runs.delete(run);
      if (runs.size === 0 && this.byConversation.get(run.conversationId) === runs) this.byConversation.delete(run.conversationId);
    });
  }

  /** The newest run in progress in the owner's conversation; another owner's is as absent as none. */
  find(conversationId: string, ownerId: string): AnswerRun | undefined {
    const runs = this.byConversation.get(conversationId);
    if (!runs) return undefined;
    let newest: AnswerRun | undefined;
    for (const run of runs) if (run.ownerId === ownerId && run.state !== 'done') newest = run;
    return newest;
  }

  /** Every run in progress. */
  all(): AnswerRun[] {
    return [...this.byConversation.values()].flatMap((runs) => [...runs]);
  }
}
