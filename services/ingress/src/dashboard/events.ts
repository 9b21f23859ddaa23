import type { Request, Response } from 'express';
import type { IngressDeps } from '../deps.ts';
import { signalRow } from './pages/signal-views.ts';

/** The `signal` event of /app/events: the row as the list renders it, so the page has one renderer. */
export interface LiveSignalEvent {
  id: string;
  status: string;
  exchange: string;
  account_id: string;
  row: string;
}

const HEARTBEAT_MS = 25_000;
/** Changes arriving within this window are read from Postgres in one query. */
const COALESCE_MS = 100;

/**
 * Server-Sent Events for the open dashboard pages. One Redis subscription per process (SignalChangeFeed);
 * each change is read from Postgres once, whatever the number of open pages, and pushed to all of them —
 * no page polls.
 */
export class DashboardEvents {
  private readonly clients = new Set<Response>();
  private readonly pending = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private unlisten: Promise<() => void> | undefined;

  constructor(private readonly deps: IngressDeps) {}

  serve(req: Request, res: Response): void {
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 5000\n\n');
    this.clients.add(res);
    this.unlisten ??= this.deps.signalChanges.listen(
      (id) => this.changed(id),
      () => this.endAll(),
    );
    this.unlisten.then(
      () => res.write('event: ready\ndata: {}\n\n'),
      (err: unknown) => {
        // Let the next page try again (EventSource reconnects on its own).
        this.unlisten = undefined;
        this.deps.logger.warn('dashboard live updates unavailable', {
          err: err instanceof Error ? err.message : String(err),
        });
        res.end();
      },
    );
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    req.on('close', () => {
      clearInterval(heartbeat);
      this.clients.delete(res);
      if (this.clients.size === 0 && this.unlisten) {
        const unlisten = this.unlisten;
        this.unlisten = undefined;
        void unlisten.then((stop) => stop()).catch(() => undefined);
      }
    });
  }

  private changed(signalId: string): void {
    this.pending.add(signalId);
    this.flushTimer ??= setTimeout(() => void this.flush(), COALESCE_MS);
  }

  private async flush(): Promise<void> {
    this.flushTimer = undefined;
    const ids = [...this.pending];
    this.pending.clear();
    if (this.clients.size === 0 || ids.length === 0) return;
    try {
      const rows = await this.deps.prisma.signal.findMany({ where: { id: { in: ids } } });
      for (const s of rows) {
        const event: LiveSignalEvent = {
          id: s.id,
          status: s.status,
          exchange: s.exchange,
          account_id: s.accountId,
          row: signalRow(s).text,
        };
        const frame = `event: signal\ndata: ${JSON.stringify(event)}\n\n`;
        for (const client of this.clients) client.write(frame);
      }
    } catch (err) {
      this.deps.logger.warn('dashboard live update failed', {
        err: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private endAll(): void {
    for (const client of this.clients) client.end();
    this.clients.clear();
  }
}
