-- CreateEnum
CREATE TYPE "Exchange" AS ENUM ('binance', 'okx');

-- CreateTable
CREATE TABLE "accounts" (
    "id" UUID NOT NULL,
    "exchange" "Exchange" NOT NULL,
    "account_id" TEXT NOT NULL,
    "testnet" BOOLEAN NOT NULL DEFAULT false,
    "api_key_masked" TEXT NOT NULL,
    "credentials" BYTEA NOT NULL,
    "credentials_key_id" TEXT NOT NULL,
    "webhook_secret_hash" TEXT,
    "margin_mode" TEXT NOT NULL DEFAULT 'cross',
    "default_leverage" INTEGER,
    "allow_add" BOOLEAN NOT NULL DEFAULT false,
    "auto_sl_tp" BOOLEAN NOT NULL DEFAULT true,
    "key_check" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "risk_limits" (
    "account_row_id" UUID NOT NULL,
    "max_leverage" INTEGER,
    "leverage_policy" TEXT,
    "daily_loss_cap" DECIMAL(30,10),
    "max_position_notional" DECIMAL(30,10),
    "max_open_positions" INTEGER,
    "symbol_allow_list" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "trading_enabled" BOOLEAN NOT NULL DEFAULT true,
    "timezone" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "risk_limits_pkey" PRIMARY KEY ("account_row_id")
);

-- CreateTable
CREATE TABLE "system_settings" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "system_settings_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "signal_sequences" (
    "key" TEXT NOT NULL,
    "last_seq" BIGINT NOT NULL,

    CONSTRAINT "signal_sequences_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "signals" (
    "id" UUID NOT NULL,
    "exchange" "Exchange" NOT NULL,
    "account_id" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "symbol" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "dedup_key" TEXT NOT NULL,
    "seq_key" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "result" JSONB,
    "request_id" TEXT NOT NULL,
    "source_ip" TEXT,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "risk_decided_at" TIMESTAMPTZ(3),
    "exec_started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "signals_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "orders" (
    "id" UUID NOT NULL,
    "signal_id" UUID,
    "exchange" "Exchange" NOT NULL,
    "account_id" TEXT NOT NULL,
    "client_order_id" TEXT NOT NULL,
    "exchange_order_id" TEXT,
    "leg" TEXT NOT NULL,
    "symbol" TEXT NOT NULL,
    "side" TEXT NOT NULL,
    "position_side" TEXT,
    "type" TEXT NOT NULL,
    "reduce_only" BOOLEAN NOT NULL DEFAULT false,
    "amount" DECIMAL(30,12),
    "exchange_amount" DECIMAL(30,12),
    "filled_amount" DECIMAL(30,12),
    "average_price" DECIMAL(30,12),
    "trigger_price" DECIMAL(30,12),
    "status" TEXT NOT NULL,
    "error" TEXT,
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "fills" (
    "id" UUID NOT NULL,
    "exchange" "Exchange" NOT NULL,
    "account_id" TEXT NOT NULL,
    "trade_id" TEXT NOT NULL,
    "exchange_order_id" TEXT,
    "client_order_id" TEXT,
    "symbol" TEXT NOT NULL,
    "side" TEXT NOT NULL,
    "price" DECIMAL(30,12) NOT NULL,
    "amount" DECIMAL(30,12) NOT NULL,
    "fee" DECIMAL(30,12) NOT NULL DEFAULT 0,
    "fee_asset" TEXT,
    "realized_pnl" DECIMAL(30,12) NOT NULL DEFAULT 0,
    "time" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "fills_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "accounts_exchange_account_id_key" ON "accounts"("exchange", "account_id");

-- CreateIndex
CREATE UNIQUE INDEX "signals_dedup_key_key" ON "signals"("dedup_key");

-- CreateIndex
CREATE INDEX "signals_exchange_account_id_received_at_idx" ON "signals"("exchange", "account_id", "received_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "signals_seq_key_seq_key" ON "signals"("seq_key", "seq");

-- CreateIndex
CREATE INDEX "orders_signal_id_idx" ON "orders"("signal_id");

-- CreateIndex
CREATE INDEX "orders_exchange_account_id_status_idx" ON "orders"("exchange", "account_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "orders_client_order_id_key" ON "orders"("client_order_id");

-- CreateIndex
CREATE UNIQUE INDEX "fills_exchange_account_id_trade_id_key" ON "fills"("exchange", "account_id", "trade_id");

-- CreateIndex
CREATE INDEX "fills_exchange_account_id_time_idx" ON "fills"("exchange", "account_id", "time");

-- AddForeignKey
ALTER TABLE "risk_limits" ADD CONSTRAINT "risk_limits_account_row_id_fkey" FOREIGN KEY ("account_row_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_signal_id_fkey" FOREIGN KEY ("signal_id") REFERENCES "signals"("id") ON DELETE SET NULL ON UPDATE CASCADE;
