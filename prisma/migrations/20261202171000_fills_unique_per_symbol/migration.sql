-- Binance and OKX number trades per symbol, so one account can see the same trade id on two symbols:
-- the key includes the symbol, or the second trade would be dropped as a duplicate.
-- DropIndex
DROP INDEX "fills_exchange_account_id_trade_id_key";

-- CreateIndex
CREATE UNIQUE INDEX "fills_exchange_account_id_symbol_trade_id_key" ON "fills"("exchange", "account_id", "symbol", "trade_id");
