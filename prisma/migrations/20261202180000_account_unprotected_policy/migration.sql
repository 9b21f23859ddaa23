-- Per-account choice for an entry whose stop-loss the exchange refuses: 'flatten' or 'keep';
-- null = the installation's UNPROTECTED_POLICY.
-- AlterTable
ALTER TABLE "accounts" ADD COLUMN "unprotected_policy" TEXT;
