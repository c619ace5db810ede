import { HttpException } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppConfig } from '../config/app-config.js';
import { errorBody } from '../common/http-error.filter.js';
import { ApiTokens } from './api-tokens.js';
import { LOCAL_OWNER } from './caller.js';
import { readCookie, SESSION_COOKIE, SessionCookie } from './session-cookie.js';

/** Paths a load balancer probes: no identity, no Host check (probes use addresses). */
export const HEALTH_PATH = '/healthz';

/**
 * Runs first on every request, the page's files included: checks `Host` against ALLOWED_HOSTS
 * (DNS rebinding), then sets `req.caller` by AUTH_MODE:
 * - none: everyone is the one local owner;
 * - cookie: a valid bearer token's owner, else the signed cookie's anonymous owner, issued on
 *   the first response that lacks one; a bearer header that is not a valid token is a 401;
 * - token: a valid bearer token's owner, else 401.
 */
export function accessMiddleware(config: AppConfig): RequestHandler {
  const { mode } = config.access;
  const tokens = new ApiTokens(config.access.apiTokens);
  const cookies = config.access.sessionSecret ? new SessionCookie(config.access.sessionSecret) : undefined;
  const allowedHosts = new Set(config.allowedHosts);

  const refuse = (res: Response, status: number, message: string, headers: Record<string, string> = {}) => {
    res.status(status).set(headers).json(errorBody(new HttpException(message, status)));
  };

  return (req: Request, res: Response, next: NextFunction) => {
    if (req.path === HEALTH_PATH || req.path === `${HEALTH_PATH}/`) return next();
    if (allowedHosts.size > 0 && !allowedHosts.has(hostName(req.headers.host))) {
      return refuse(res, 421, `This server does not answer for the host ${JSON.stringify(req.headers.host ?? '')} (see ALLOWED_HOSTS)`);
    }
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    if (mode === 'none') {
      req.caller = { ownerId: LOCAL_OWNER, clientKey: `ip:${address}` };
      return next();
    }
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const ownerId = tokens.ownerFor(authorization);
      if (!ownerId) return refuse(res, 401, 'The bearer token is not valid', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      req.caller = { ownerId, clientKey: ownerId };
      return next();
    }
    if (mode === 'token' || !cookies) {
      return refuse(res, 401, 'This server needs an API token: send Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer' });
    }
    let ownerId = cookies.verify(readCookie(req.headers.cookie, SESSION_COOKIE));
    if (!ownerId) {
      const issued = cookies.issue();
      ownerId = issued.ownerId;
      res.append('Set-Cookie', cookies.header(issued.value, req.secure));
    }
    // Anonymous owners are free to make, so limits count per address, not per cookie.
    req.caller = { ownerId, clientKey: `ip:${address}` };
    next();
  };
}

/** The host name of a Host header, lower case, without port or IPv6 brackets. */
function hostName(host: string | undefined): string {
  if (!host) return '';
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1].toLowerCase();
  return host.replace(/:\d+$/, '').toLowerCase();
}
