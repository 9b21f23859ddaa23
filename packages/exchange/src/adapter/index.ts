import { CcxtExchangeAdapter, type AdapterOptions } from './base.ts';
import { BinanceAdapter } from './binance/adapter.ts';
import { OkxAdapter } from './okx/adapter.ts';

export { CcxtExchangeAdapter, BinanceAdapter, OkxAdapter };
export type { AdapterOptions, KeyPermissions } from './base.ts';

/** The adapter of the account's venue (venue logic: adapter/binance/, adapter/okx/; shared: adapter/base.ts). */
export function createExchangeAdapter(opts: AdapterOptions): CcxtExchangeAdapter {
  return opts.exchange === 'okx' ? new OkxAdapter(opts) : new BinanceAdapter(opts);
}
