/**
 * Officers' sessions. The cookie holds only a random session id (HttpOnly, SameSite=Strict,
 * Secure behind TLS); the session itself, with the officer's credential the console calls the
 * gateway with, stays in this process's memory and ends after an idle time-out or a maximum age.
 * Every form and script request carries the session's CSRF token, and a request from another
 * origin is refused whatever it carries.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'credence_console';

/** How the officer proved who they are; the console sends the same to the gateway. */
export type OfficerCredential = { kind: 'api-key'; apiKey: string } | { kind: 'jwt'; token: string };

export interface Session {
  id: string;
  officer: string;
  officerName: string;
  credential: OfficerCredential;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionSettings {
  /** Idle time after which a session ends (default 15 minutes). */
  idleMs: number;
  /** Longest a session lasts, busy or not (default 8 hours). */
  maxAgeMs: number;
  /** Secure cookies: on when the console is reached over HTTPS. */
  secure: boolean;
}

export type SessionLookup =
  { ok: true; session: Session } | { ok: false; code: 'SESSION_REQUIRED' | 'SESSION_UNKNOWN' | 'SESSION_EXPIRED' };

export interface Sessions {
  start(officer: { id: string; name: string }, credential: OfficerCredential): Session;
  find(cookieHeader: string | undefined, now?: number): SessionLookup;
  end(id: string): void;
  cookie(session: Session): string;
  clearCookie(): string;
  /** True when `token` is the session's CSRF token (constant time). */
  csrfMatches(session: Session, token: unknown): boolean;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) cookies.set(part.slice(0, index).trim(), part.slice(index + 1).trim());
  }
  return cookies;
}

export function createSessions(settings: SessionSettings): Sessions {
  const sessions = new Map<string, Session>();
  const attributes = `Path=/; HttpOnly; SameSite=Strict${settings.secure ? '; Secure' : ''}`;
  const sweep = (now: number): void => {
    for (const [id, session] of sessions) if (expired(session, now)) sessions.delete(id);
  };
  const expired = (session: Session, now: number): boolean =>
    now - session.lastSeenAt > settings.idleMs || now - session.createdAt > settings.maxAgeMs;
  return {
    start(officer, credential) {
      const now = Date.now();
      sweep(now);
      const session: Session = {
        id: randomBytes(32).toString('base64url'),
        officer: officer.id,
        officerName: officer.name,
        credential,
        csrf: randomBytes(32).toString('base64url'),
        createdAt: now,
        lastSeenAt: now,
      };
      sessions.set(session.id, session);
      return session;
    },
    find(cookieHeader, now = Date.now()) {
      const id = parseCookies(cookieHeader).get(SESSION_COOKIE);
      if (!id) return { ok: false, code: 'SESSION_REQUIRED' };
      const session = sessions.get(id);
      if (!session) return { ok: false, code: 'SESSION_UNKNOWN' };
      if (expired(session, now)) {
        sessions.delete(id);
        return { ok: false, code: 'SESSION_EXPIRED' };
      }
      session.lastSeenAt = now;
      return { ok: true, session };
    },
    end: (id) => void sessions.delete(id),
    cookie: (session) =>
      `${SESSION_COOKIE}=${session.id}; ${attributes}; Max-Age=${Math.floor(settings.maxAgeMs / 1000)}`,
    clearCookie: () => `${SESSION_COOKIE}=; ${attributes}; Max-Age=0`,
    csrfMatches(session, token) {
      if (typeof token !== 'string') return false;
      const expected = Buffer.from(session.csrf);
      const given = Buffer.from(token);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
