import type { Request, RequestHandler, Response } from 'express';
import type { IngressDeps } from '../deps.ts';
import type { Html } from './html.ts';

/** What every page module gets: the guards for pages (session) and for actions (session + CSRF). */
export interface DashboardContext {
  deps: IngressDeps;
  pages: RequestHandler[];
  actions: RequestHandler[];
}

export function sendPage(res: Response, body: Html, status = 200): void {
  res.status(status).type('html').send(body.text);
}

/** A trimmed text field of a submitted form, or undefined. */
export function formText(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.trim() : undefined;
}

/**
 * Messages after a POST-redirect-GET, by key only: a link can never make the dashboard show text of its
 * choosing.
 */
const FLASH: Record<string, { kind: 'ok' | 'error'; text: string }> = {
  halted: { kind: 'ok', text: 'Trading halted: new entries are rejected, exits still run / 거래 중지됨' },
  resumed: { kind: 'ok', text: 'Trading resumed / 거래 재개됨' },
  registered: { kind: 'ok', text: 'Account saved and key checked / 계정 저장 및 키 확인 완료' },
  not_confirmed: { kind: 'error', text: 'Not confirmed: nothing changed / 확인하지 않아 변경 없음' },
};

export function flashFromQuery(req: Request): { kind: 'ok' | 'error'; text: string } | undefined {
  const key = typeof req.query.done === 'string' ? req.query.done : undefined;
  return key ? FLASH[key] : undefined;
}
