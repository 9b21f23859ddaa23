/**
 * Webhook bodies for the load generators: the guide's payload with a unique `alert_id` per request (so
 * deduplication accepts every one), spread round-robin over accounts and symbols (so the per-(account,
 * symbol) sequence rows are not one hot row unless a scenario wants that).
 */
export interface BodySpec {
  exchange: 'binance' | 'okx';
  accounts: string[];
  symbols: string[];
  secret: string;
  /** Actions cycled per (account, symbol) key: e.g. ['long', 'close_long'] keeps positions flat. */
  actions: string[];
  /** One size for every symbol, or per symbol as written in `symbols` (minimum notionals differ). */
  quantity?: number | Record<string, number>;
  /** Makes alert ids unique across runs against the same database. */
  runId: string;
}

export function webhookBody(spec: BodySpec, i: number): Record<string, unknown> {
  const keys = spec.accounts.length * spec.symbols.length;
  const key = i % keys;
  const account = spec.accounts[key % spec.accounts.length] as string;
  const symbol = spec.symbols[Math.floor(key / spec.accounts.length)] as string;
  const round = Math.floor(i / keys);
  const body: Record<string, unknown> = {
    account_id: account,
    exchange: spec.exchange,
    action: spec.actions[round % spec.actions.length],
    symbol,
    secret: spec.secret,
    alert_id: `${spec.runId}-${i}`,
  };
  const quantity = typeof spec.quantity === 'object' ? spec.quantity[symbol] : spec.quantity;
  if (quantity !== undefined) body.quantity = quantity;
  return body;
}
