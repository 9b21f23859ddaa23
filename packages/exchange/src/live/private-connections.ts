/**
 * What the live state reads from ccxt pro's WebSocket clients of one account (ccxt/js/src/base/ws/Client.js:
 * `url`, `isOpen()`, `connectionEstablished`, `lastPong`): Binance has one private connection (the listenKey
 * URL), OKX two (`/private` and `/business`).
 */
import type * as ccxt from 'ccxt';
import type { Exchange } from '@tradehook/contracts';

interface WsClientView {
  url: string;
  lastPong?: number;
  connectionEstablished?: number;
  isOpen(): boolean;
}

export class PrivateConnections {
  constructor(
    private readonly client: ccxt.Exchange,
    private readonly exchange: Exchange,
  ) {}

  private list(): WsClientView[] {
    const clients = Object.values(
      (this.client as unknown as { clients?: Record<string, WsClientView> }).clients ?? {},
    );
    return clients.filter((c) => typeof c.url === 'string' && /\/(private|business)(\/|\?|$)/.test(c.url));
  }

  /** Every private connection the venue needs is open. */
  open(): boolean {
    const expected = this.exchange === 'okx' ? 2 : 1;
    return this.list().filter((c) => c.isOpen()).length >= expected;
  }

  /** Open, and each one since at least `settleMs` before `at` (time to log in and subscribe). */
  settled(settleMs: number, at = Date.now()): boolean {
    if (!this.open()) return false;
    return this.list()
      .filter((c) => c.isOpen())
      .every((c) => (c.connectionEstablished ?? at) + settleMs <= at);
  }

  /** The latest moment every private connection was heard from (its opening or a keep-alive pong); 0 if none. */
  heardAt(): number {
    const clients = this.list();
    if (clients.length === 0) return 0;
    return Math.min(...clients.map((c) => Math.max(c.lastPong ?? 0, c.connectionEstablished ?? 0)));
  }
}
