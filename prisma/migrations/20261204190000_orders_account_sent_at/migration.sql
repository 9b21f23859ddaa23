-- The worker reads an account's latest market order sent (by any replica) before it trusts its stream state
-- (services/worker/src/jobs/process-order.ts): indexed so the read stays one index probe however many orders.
-- CreateIndex
CREATE INDEX "orders_exchange_account_id_sent_at_idx" ON "orders"("exchange", "account_id", "sent_at");
