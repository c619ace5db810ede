import { applyDecorators } from '@nestjs/common';
import { ApiTooManyRequestsResponse } from '../api-docs/openapi-decorators.js';
import { StartsAnswer } from './answer-quota.guard.js';

/**
 * A route that starts a model answer: it takes an answer from the client's
 * RATE_LIMIT_ANSWERS_PER_MINUTE here, and ChatService a stream slot (MAX_STREAMS_PER_CLIENT)
 * for as long as the answer runs.
 */
export const AnswerRoute = () =>
  applyDecorators(
    StartsAnswer(),
    ApiTooManyRequestsResponse({ description: 'Too many answers a minute, or running at once, for this client; see Retry-After' }),
  );
