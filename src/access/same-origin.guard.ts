import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses state-changing requests a browser makes on behalf of another site (CSRF): the
 * seed's POST takes a simple form, which any page could otherwise submit to this server.
 * Clients that are not browsers send no Origin and pass; so do the origins CORS_ORIGINS lists.
 */
@Injectable()
export class SameOriginGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (SAFE_METHODS.has(req.method)) return true;
    const origin = req.headers.origin;
    if (origin !== undefined && this.config.corsOrigins.includes(origin)) return true;
    if (req.headers['sec-fetch-site'] === 'cross-site') {
      throw new ForbiddenException('Cross-site requests are not accepted');
    }
    if (origin === undefined) return true;
    // req.protocol is X-Forwarded-Proto's when TRUST_PROXY trusts the proxy that sent the request.
    if (!sameOrigin(origin, req.protocol, req.headers.host)) {
      throw new ForbiddenException(`Cross-site requests are not accepted: Origin ${origin} is not this server`);
    }
    return true;
  }
}

/** Whether `origin` is scheme://host[:port] of this request: an https page is another origin than http on the same host. */
function sameOrigin(origin: string, protocol: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    // Both parsed as URLs, so that default ports compare equal (example.com vs example.com:80).
    return new URL(origin).origin === new URL(`${protocol}://${host}`).origin;
  } catch {
    return false; // "null" (sandboxed frames, file://) or garbage
  }
}
