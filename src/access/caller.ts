import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Who is calling, as accessMiddleware found out: set on every request before any route runs. */
export interface Caller {
  /** Whose conversations the request works on ('local' in AUTH_MODE=none). */
  readonly ownerId: string;
  /** What rate and stream limits count against: a bearer token's owner, else the client address. */
  readonly clientKey: string;
}

/** The single owner of AUTH_MODE=none; conversations from before owners existed belong to it. */
export const LOCAL_OWNER = 'local';

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

export function callerOf(request: Request): Caller {
  if (!request.caller) throw new Error('accessMiddleware did not run for this request');
  return request.caller;
}

/** The caller, for a route parameter. */
export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller =>
  callerOf(context.switchToHttp().getRequest<Request>()),
);

/** The caller's owner id, for a route parameter. */
export const OwnerId = createParamDecorator((_: unknown, context: ExecutionContext): string =>
  callerOf(context.switchToHttp().getRequest<Request>()).ownerId,
);
