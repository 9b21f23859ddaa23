/**
 * Binance USDⓈ-M pushes ACCOUNT_CONFIG_UPDATE on the user data stream when a symbol's leverage changes — set
 * by this worker, another replica or the exchange's app ("Event: Account Configuration Update previous Leverage
 * Update": `ac.s` the symbol, `ac.l` the leverage). ccxt pro has no handler for it (pro/binance.js
 * `handleMessage` table), so the message is read on its way in. Must run before the first watch: ccxt binds
 * `handleMessage` when it creates a WebSocket client (base/Exchange.js `client`).
 */
import type * as ccxt from 'ccxt';

interface ConfigEvent {
  e?: unknown;
  ac?: { s?: unknown; l?: unknown };
}

interface Patchable {
  handleMessage(client: unknown, message: unknown): unknown;
  safeSymbol(marketId: string, market?: unknown, delimiter?: string, marketType?: string): string;
}

export function followBinanceLeverage(
  client: ccxt.Exchange,
  onLeverage: (symbol: string, leverage: number) => void,
): void {
  const ex = client as unknown as Patchable;
  const original = ex.handleMessage.bind(client);
  ex.handleMessage = (ws, message) => {
    // ws mode: the event itself; stream mode: wrapped as {stream, data}.
    const m = ((message as { data?: ConfigEvent } | undefined)?.data ?? message) as ConfigEvent | undefined;
    if (m?.e === 'ACCOUNT_CONFIG_UPDATE' && typeof m.ac?.s === 'string') {
      const leverage = Number(m.ac.l);
      if (Number.isFinite(leverage) && leverage > 0)
        onLeverage(ex.safeSymbol(m.ac.s, undefined, undefined, 'swap'), leverage);
    }
    return original(ws, message);
  };
}
