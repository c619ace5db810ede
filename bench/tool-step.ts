import { median, percentile, postPrompt, streamRequest, upstreamTimes } from './support.js';

/**
 * Scenario 9, one tool step (app only: the reference relay has no tools). What the app adds
 * between two model calls of one answer: from the upstream's end of the step that asked for the
 * tool (`finish_reason: tool_calls`) to the next request arriving at the upstream, which is
 * reading the last chunks, running the tool (current_time: microseconds of its own), storing
 * nothing yet, and sending the follow-up request with the call and its result. The upstream's
 * own time is not in it, whatever it is.
 */
export interface ToolStepLatency {
  readonly answers: number;
  readonly failed: number;
  /** Upstream end of step 1 → step 2's request received, ms. */
  readonly addedP50: number;
  readonly addedP95: number;
  /** The same answer without the tool step, end to end, and with it, minus the upstream's time for step 1. */
  readonly plainAnswerP50: number;
  readonly toolAnswerP50: number;
}

export const TOOL_STEP = { answers: 60, tokens: 20 } as const;

export async function measureToolStep(appUrl: string, upstreamUrl: string): Promise<ToolStepLatency> {
  const plain: number[] = [];
  const withTool: number[] = [];
  const added: number[] = [];
  let failed = 0;
  // Warm both paths first: the first tool call compiles its code.
  await postPrompt(appUrl, `tokens=${TOOL_STEP.tokens} tools=1 warm-up`);
  await postPrompt(appUrl, `tokens=${TOOL_STEP.tokens} warm-up`);
  for (let i = 0; i < TOOL_STEP.answers; i++) {
    const id = await newConversation(appUrl);
    await upstreamTimes(upstreamUrl, true);
    const one = await ask(appUrl, id, `tokens=${TOOL_STEP.tokens} tools=1 #${i}`);
    const times = await upstreamTimes(upstreamUrl, true);
    const first = times.find((t) => !t.afterTools);
    const second = times.find((t) => t.afterTools);
    if (one.error || one.status !== 200 || !first?.endAt || !second?.receivedAt || !one.text.includes('"type":"tool-result"')) {
      failed++;
      continue;
    }
    added.push(second.receivedAt - first.endAt);
    withTool.push(one.endAt - one.startedAt - (first.endAt - (first.receivedAt ?? first.endAt)));
    const two = await ask(appUrl, id, `tokens=${TOOL_STEP.tokens} #${i}`);
    if (!two.error && two.status === 200) plain.push(two.endAt - two.startedAt);
  }
  return {
    answers: TOOL_STEP.answers,
    failed,
    addedP50: median(added),
    addedP95: percentile(added, 95),
    plainAnswerP50: median(plain),
    toolAnswerP50: median(withTool),
  };
}

async function newConversation(appUrl: string): Promise<string> {
  const response = await fetch(`${appUrl}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return ((await response.json()) as { id: string }).id;
}

const ask = (appUrl: string, id: string, prompt: string) =>
  streamRequest(`${appUrl}/api/conversations/${id}/messages`, { method: 'POST', body: JSON.stringify({ prompt }), contentType: 'application/json' });
