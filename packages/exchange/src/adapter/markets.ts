import type { CcxtClient } from '../client.ts';

/**
 * Markets are the same for every account of one venue (exchange + demo flag + base URL): the first client of a
 * venue loads and parses them, every later client of that venue takes the parsed tables as they are
 * (ccxt's `setMarketsFromExchange` shares markets, ids, symbols and currencies by reference; `setMarkets`
 * would rebuild them per account).
 */
const sources = new Map<string, Promise<CcxtClient>>();

export async function sharedMarkets(venueKey: string, client: CcxtClient): Promise<void> {
  const shared = sources.get(venueKey);
  if (!shared) {
    const loading = client.loadMarkets().then(() => client);
    sources.set(venueKey, loading);
    loading.catch(() => sources.delete(venueKey));
    await loading;
    return;
  }
  client.setMarketsFromExchange(await shared);
}
