/** The ccxt pro methods the live state uses (ccxt ships no types for its `pro` namespace's instances). */
import type * as ccxt from 'ccxt';

export interface ProClient {
  watchOrders(
    symbol?: string,
    since?: number,
    limit?: number,
    params?: Record<string, unknown>,
  ): Promise<ccxt.Order[]>;
  watchMyTrades(symbol?: string): Promise<ccxt.Trade[]>;
  watchPositions(symbols?: string[]): Promise<ccxt.Position[]>;
  watchBalance(): Promise<ccxt.Balances>;
  watchTicker(symbol: string): Promise<ccxt.Ticker>;
  loadMarkets(): Promise<unknown>;
  close(): Promise<void>;
}

/** The client as a pro client; a clear error when it was created without `streaming: true`. */
export function asProClient(ex: ccxt.Exchange): ProClient {
  const maybe = ex as unknown as Partial<ProClient>;
  if (typeof maybe.watchOrders !== 'function' || typeof maybe.watchBalance !== 'function')
    throw new Error(`${ex.id}: the live state needs a ccxt pro client (create it with streaming: true)`);
  return ex as unknown as ProClient;
}
