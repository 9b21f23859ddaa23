-- Account groups (docs/decisions/0021-account-groups.md): one alert with `group_id` becomes one signal per
-- member at ingress. A member is an account (deleted with it) with an optional sizing override.
-- CreateTable
CREATE TABLE "account_groups" (
    "id" UUID NOT NULL,
    "group_id" TEXT NOT NULL,
    "name" TEXT,
    "webhook_secret_hash" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_groups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account_group_members" (
    "group_row_id" UUID NOT NULL,
    "account_row_id" UUID NOT NULL,
    "quantity" DECIMAL(30,12),
    "quantity_multiplier" DECIMAL(30,12),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_group_members_pkey" PRIMARY KEY ("group_row_id","account_row_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "account_groups_group_id_key" ON "account_groups"("group_id");

-- CreateIndex
CREATE INDEX "account_group_members_account_row_id_idx" ON "account_group_members"("account_row_id");

-- AddForeignKey
ALTER TABLE "account_group_members" ADD CONSTRAINT "account_group_members_group_row_id_fkey" FOREIGN KEY ("group_row_id") REFERENCES "account_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_group_members" ADD CONSTRAINT "account_group_members_account_row_id_fkey" FOREIGN KEY ("account_row_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
