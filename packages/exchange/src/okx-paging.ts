import type * as ccxt from 'ccxt';

type Dict = Record<string, unknown>;

const OKX_LIMIT = 100;
/** Pages per read; the rest is read on the next round. */
const MAX_PAGES = 50;

/** An OKX REST call by ccxt's implicit method name (e.g. privateGetTradeFillsHistory). */
export function okxCall(client: ccxt.Exchange, name: string): (p: Dict) => Promise<Dict> {
  const fn = (client as unknown as Record<string, ((p: Dict) => Promise<Dict>) | undefined>)[name];
  if (!fn) throw new Error(`ccxt okx has no ${name}`);
  return fn.bind(client);
}

/**
 * Every row newer than `newerThan` (a billId; else since `beginMs`) from an OKX list that answers at most
 * 100 rows, newest first: the first page asks `before` (newer than the cursor), the next ones page back with
 * `after` (older than the last row) until a short page. `complete` is false when the page budget ran out.
 */
export async function okxRowsNewerThan(
  call: (p: Dict) => Promise<Dict>,
  params: Dict,
  newerThan: string | undefined,
  beginMs: number,
): Promise<{ rows: Dict[]; complete: boolean }> {
  const base: Dict = { ...params, limit: String(OKX_LIMIT) };
  if (newerThan) base['before'] = newerThan;
  else base['begin'] = String(beginMs);
  const rows: Dict[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await call(after ? { ...base, after } : base);
    const data = (res['data'] as Dict[] | undefined) ?? [];
    rows.push(...data);
    if (data.length < OKX_LIMIT) return { rows, complete: true };
    after = String(data[data.length - 1]!['billId']);
  }
  return { rows, complete: false };
}
