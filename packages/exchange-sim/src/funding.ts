/**
 * Funding of perpetual swaps, booked every 8 hours of the simulator's clock (00:00, 08:00, 16:00 UTC — the
 * interval Binance `premiumIndex.nextFundingTime` and OKX `public/funding-rate` report here) at the rate they
 * report (0.0001). Longs pay and shorts receive a positive rate: payment = −position × mark price × rate.
 * Booked when the clock is moved across a funding time (`POST /_sim/clock`). Each payment is one income
 * record: Binance `GET /fapi/v1/income` incomeType FUNDING_FEE, OKX `GET /api/v5/account/bills` type 8.
 */
import type { Engine } from './engine.ts';
import { round } from './num.ts';

export const FUNDING_INTERVAL_MS = 8 * 3_600_000;
export const FUNDING_RATE = 0.0001;

/** Books the funding of every funding time in (fromMs, toMs]. */
export function bookFunding(engine: Engine, fromMs: number, toMs: number): number {
  let booked = 0;
  for (
    let t = Math.floor(fromMs / FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS;
    t <= toMs;
    t += FUNDING_INTERVAL_MS
  ) {
    for (const acct of engine.accounts.values()) {
      for (const pos of engine.openPositions(acct)) {
        const amount = round(-pos.qty * engine.price(pos.symbol) * FUNDING_RATE, 8);
        if (amount === 0) continue;
        acct.wallet = round(acct.wallet + amount, 8);
        acct.income.push({
          tranId: engine.nextId('tran'),
          billId: engine.nextId('bill'),
          type: 'FUNDING_FEE',
          symbol: pos.symbol,
          amount,
          asset: 'USDT',
          time: t,
          tradeId: undefined,
        });
        booked++;
      }
    }
  }
  return booked;
}
