import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { StartsAnswer } from './answer-quota.guard.js';
import { StreamSlotsInterceptor } from './stream-slots.interceptor.js';

/**
 * A route that starts a model answer and streams it: it takes an answer from the client's
 * RATE_LIMIT_ANSWERS_PER_MINUTE and a stream slot (MAX_STREAMS_PER_CLIENT).
 */
export const AnswerRoute = () => applyDecorators(StartsAnswer(), UseInterceptors(StreamSlotsInterceptor));
