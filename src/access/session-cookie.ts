import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'chat_session';
/** Browsers cap cookie lifetimes at 400 days; the anonymous owner lives as long as the cookie. */
const MAX_AGE_SECONDS = 400 * 24 * 60 * 60;

/** An anonymous owner in a signed cookie value: `<random id>.<HMAC-SHA256 of it>`, both base64url. */
export class SessionCookie {
  constructor(private readonly secret: string) {}

  /** A new owner id and the cookie value that carries it. */
  issue(): { ownerId: string; value: string } {
    const id = randomBytes(18).toString('base64url');
    return { ownerId: ownerIdFor(id), value: `${id}.${this.sign(id)}` };
  }

  /** The owner id in a cookie value, or undefined when it is missing, malformed or not signed by us. */
  verify(value: string | undefined): string | undefined {
    const match = value === undefined ? null : /^([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!match) return undefined;
    const expected = Buffer.from(this.sign(match[1]));
    const given = Buffer.from(match[2]);
    return timingSafeEqual(expected, given) ? ownerIdFor(match[1]) : undefined;
  }

  header(value: string, secure: boolean): string {
    return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  private sign(id: string): string {
    return createHmac('sha256', this.secret).update(id).digest('base64url');
  }
}

function ownerIdFor(cookieId: string): string {
  return `anon:${cookieId}`;
}

/** The value of one cookie in a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
