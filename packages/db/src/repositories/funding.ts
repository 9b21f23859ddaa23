import type { Exchange } from '@tradehook/contracts';
import type { Queryable } from './risk-limits.ts';

/** A funding payment reported by the exchange; (exchange, account_id, payment_id) is unique. */
export interface NewFundingPayment {
  /** Binance income tranId, OKX billId. */
  paymentId: string;
  symbol: string;
  /** Positive = received, negative = paid. */
  amount: number;
  asset: string;
  time: Date;
}

/** Inserts funding payments, skipping known ones; returns how many were new. */
export async function insertFundingPayments(
  db: Queryable,
  exchange: Exchange,
  accountId: string,
  payments: NewFundingPayment[],
): Promise<number> {
  if (payments.length === 0) return 0;
  const values: unknown[] = [exchange, accountId];
  const tuples = payments.map((f, i) => {
    const b = 2 + i * 5;
    values.push(f.paymentId, f.symbol, f.amount, f.asset, f.time);
    return `(gen_random_uuid(), $1::"Exchange", $2, $${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5})`;
  });
  const res = await db.query(
    `INSERT INTO funding_payments (id, exchange, account_id, payment_id, symbol, amount, asset, time)
     VALUES ${tuples.join(',\n')}
     ON CONFLICT (exchange, account_id, payment_id) DO NOTHING`,
    values,
  );
  return res.rowCount ?? 0;
}
