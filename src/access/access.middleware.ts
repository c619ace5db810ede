import { HttpException } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppConfig } from '../config/app-config.js';
import { RetryLaterException, sendError } from '../common/http-error.filter.js';
import { isProbePath } from '../common/probe-paths.js';
import { ApiTokens } from './api-tokens.js';
import { type Caller, LOCAL_OWNER } from './caller.js';
import { type ClientRateLimit, tooManyMessage } from './rate-limits.js';
import { readCookie, SESSION_COOKIE, SessionCookie } from './session-cookie.js';

/** Paths a load balancer probes: no identity, no Host check (probes use addresses). */
export { HEALTH_PATH } from '../common/probe-paths.js';

/**
 * Runs first on every request, the page's files, the API docs and unknown paths included (Nest's
 * guards never see those): checks `Host` against ALLOWED_HOSTS (DNS rebinding), then sets
 * `req.caller` by AUTH_MODE:
 * - none: everyone is the one local owner;
 * - cookie: a valid bearer token's owner, else the signed cookie's anonymous owner, issued on
 *   the first response that lacks one; a bearer header that is not a valid token is a 401;
 * - token: a valid bearer token's owner, else 401.
 * Every request it passes or refuses counts against RATE_LIMIT_REQUESTS_PER_MINUTE (`requests`,
 * from RateLimits: shared by the instances with REDIS_URL), by the caller's clientKey, or by
 * address when there is no caller (a 401 or 421). It is a plain function, not a NestMiddleware,
 * so that app.factory can put it before the body parsers and everything else.
 */
export function accessMiddleware(config: AppConfig, requests: ClientRateLimit | undefined): RequestHandler {
  const { mode } = config.access;
  const tokens = new ApiTokens(config.access.apiTokens);
  const cookies = config.access.sessionSecret ? new SessionCookie(config.access.sessionSecret) : undefined;
  const allowedHosts = new Set(config.allowedHosts);

  const send = (res: Response, status: number, message: string, headers: Record<string, string> = {}) => {
    res.set(headers);
    sendError(res, new HttpException(message, status));
  };
  /** Counts the request, then runs `then`; over the limit, answers a 429 instead. */
  const counted = (res: Response, clientKey: string, then: () => void): void | Promise<void> => {
    if (!requests) return then();
    return requests.hit(clientKey).then(
      (hit) => {
        if (hit.admitted) return then();
        sendError(res, new RetryLaterException(tooManyMessage('requests', requests.limit, hit.retryAfterSeconds), hit.retryAfterSeconds));
      },
      // Not a refusal: a failure of the limiter itself (see RateLimits), answered like any other.
      (error: unknown) => sendError(res, error),
    );
  };
  const pass = (req: Request, res: Response, next: NextFunction, caller: Caller) =>
    counted(res, caller.clientKey, () => {
      req.caller = caller;
      next();
    });
  const refuse = (req: Request, res: Response, status: number, message: string, headers: Record<string, string> = {}) =>
    counted(res, addressKey(req), () => send(res, status, message, headers));

  return (req: Request, res: Response, next: NextFunction) => {
    if (isProbePath(req.path)) return next();
    if (allowedHosts.size > 0 && !allowedHosts.has(hostName(req.headers.host))) {
      return refuse(req, res, 421, `This server does not answer for the host ${JSON.stringify(req.headers.host ?? '')} (see ALLOWED_HOSTS)`);
    }
    if (mode === 'none') return pass(req, res, next, { ownerId: LOCAL_OWNER, clientKey: addressKey(req) });
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const ownerId = tokens.ownerFor(authorization);
      if (!ownerId) return refuse(req, res, 401, 'The bearer token is not valid', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      return pass(req, res, next, { ownerId, clientKey: ownerId });
    }
    if (mode === 'token' || !cookies) {
      return refuse(req, res, 401, 'This server needs an API token: send Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer' });
    }
    let ownerId = cookies.verify(readCookie(req.headers.cookie, SESSION_COOKIE));
    if (!ownerId) {
      const issued = cookies.issue();
      ownerId = issued.ownerId;
      res.append('Set-Cookie', cookies.header(issued.value, req.secure));
    }
    // Anonymous owners are free to make, so limits count per address, not per cookie.
    return pass(req, res, next, { ownerId, clientKey: addressKey(req) });
  };
}

function addressKey(req: Request): string {
  return `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
}

/** The host name of a Host header, lower case, without port or IPv6 brackets. */
function hostName(host: string | undefined): string {
  if (!host) return '';
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1].toLowerCase();
  return host.replace(/:\d+$/, '').toLowerCase();
}
