/**
 * What an entry or a close decides from: positions, free balance and price. In steady state they come from
 * the account's live state (private streams) and the venue's price feed, so the order leaves with no exchange
 * round trip before it (docs/decisions/0021-live-state-before-orders.md). The stream state is used only when
 * it is known current within LIVE_STATE_MAX_AGE_MS and no order of this account was sent within
 * LIVE_STATE_OWN_ORDER_GRACE_MS (its effect may not be on the stream yet); otherwise the same values are read
 * by REST, in parallel, and the trace says why.
 */
import type { Balance, OrderInfo, PositionInfo } from '@tradehook/exchange';
import type { Execution } from './context.ts';

export interface DecisionState {
  positions: PositionInfo[];
  balance: Balance | undefined;
  price: number | undefined;
  /** The symbol's open conditional orders, when asked for and the stream state is used. */
  conditionals: OrderInfo[] | undefined;
  /** For the signal's trace (`results.state`). */
  trace: {
    positions: 'stream' | 'rest';
    price?: 'stream' | 'rest';
    age_ms?: number;
    rest_because?: string;
  };
}

export async function readDecisionState(
  x: Execution,
  symbol: string,
  want: { balance: boolean; price: boolean; conditionals?: boolean },
): Promise<DecisionState> {
  const { account, config } = x;
  const { adapter } = account;
  const now = Date.now();
  const unusable = account.liveStateUnusable(
    config.LIVE_STATE_MAX_AGE_MS,
    config.LIVE_STATE_OWN_ORDER_GRACE_MS,
    now,
    x.lastMarketOrderAt,
  );
  const streamPrice = want.price ? account.livePrice(symbol, config.PRICE_MAX_AGE_MS, now) : undefined;
  const [positions, balance, price, open] = await Promise.all([
    unusable === null ? account.live!.positions() : adapter.fetchPositions(),
    !want.balance ? undefined : unusable === null ? account.live!.balance() : adapter.fetchBalance(),
    !want.price ? undefined : (streamPrice ?? adapter.fetchPrice(symbol)),
    // From the stream only: by REST it would add two requests to every entry (openConditionals below).
    want.conditionals && unusable === null ? account.live!.openOrders(symbol) : undefined,
  ]);
  const conditionals = open && conditionalsOn(open, symbol);
  const trace: DecisionState['trace'] = { positions: unusable === null ? 'stream' : 'rest' };
  if (want.price) trace.price = streamPrice !== undefined ? 'stream' : 'rest';
  if (unusable === null) trace.age_ms = Math.round(account.live!.freshness(now).ageMs);
  else trace.rest_because = unusable;
  return { positions, balance, price, conditionals, trace };
}

/**
 * The symbol's open conditional orders for an entry on a venue that caps them: from the stream state, else by
 * REST only when a position on the symbol is open (without one there is no protection of ours to count: a fresh
 * entry pays no request for it; an add on the REST path pays one round trip rather than an entry flattened).
 */
export async function openConditionals(
  x: Execution,
  state: DecisionState,
  symbol: string,
): Promise<OrderInfo[] | undefined> {
  if (state.conditionals) return state.conditionals;
  if (!state.positions.some((p) => p.symbol === symbol && p.amount > 0)) return undefined;
  return conditionalsOn(await x.account.adapter.fetchOpenOrders(symbol), symbol);
}

const conditionalsOn = (orders: OrderInfo[], symbol: string) =>
  orders.filter((o) => o.conditional && o.symbol === symbol);

/**
 * A close found nothing to close on the stream: confirm by REST before answering "nothing to close" (a miss
 * here would leave a position open; a REST read after a genuine miss costs one round trip, never an order).
 */
export async function confirmPositions(
  x: Execution,
  state: DecisionState,
  symbol?: string,
): Promise<PositionInfo[]> {
  if (state.trace.positions === 'rest') return state.positions;
  state.trace.rest_because = 'confirming by REST: the stream shows nothing to close';
  return x.account.adapter.fetchPositions(symbol);
}
