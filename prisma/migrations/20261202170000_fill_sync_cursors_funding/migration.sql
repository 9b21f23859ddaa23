-- Where the fill and funding sync of one (exchange, account, symbol, stream) has read up to, so an empty
-- stretch of history is never asked again and paging resumes exactly where it stopped.
CREATE TABLE "sync_cursors" (
    "exchange" "Exchange" NOT NULL,
    "account_id" TEXT NOT NULL,
    "symbol" TEXT NOT NULL,
    "stream" TEXT NOT NULL,
    "cursor" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_cursors_pkey" PRIMARY KEY ("exchange", "account_id", "symbol", "stream")
);

-- Funding payments (Binance income FUNDING_FEE, OKX bills type 8): positive = received, negative = paid.
CREATE TABLE "funding_payments" (
    "id" UUID NOT NULL,
    "exchange" "Exchange" NOT NULL,
    "account_id" TEXT NOT NULL,
    "payment_id" TEXT NOT NULL,
    "symbol" TEXT NOT NULL,
    "amount" DECIMAL(30,12) NOT NULL,
    "asset" TEXT NOT NULL,
    "time" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "funding_payments_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "funding_payments_exchange_account_id_payment_id_key" ON "funding_payments"("exchange", "account_id", "payment_id");

-- CreateIndex
CREATE INDEX "funding_payments_exchange_account_id_time_idx" ON "funding_payments"("exchange", "account_id", "time");

-- Fees converted to the quote currency at the fill's time (fee stays in fee_asset); null = not converted yet.
ALTER TABLE "fills" ADD COLUMN "fee_quote" DECIMAL(30,12);
