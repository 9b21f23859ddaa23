import { z } from 'zod';
import { entryFieldIssues, notYetExecutedIssues } from './entry-fields.ts';
import { orderTypeIssues } from './order-type-fields.ts';
import {
  accountIdSchema,
  exchangeSchema,
  NUMBER_BOUNDS,
  webhookPayloadSchema,
  type Action,
} from './webhook.ts';

/** The webhook payload's fields without its cross-field check (re-applied below). */
const webhookFields = z.object(webhookPayloadSchema.shape);

/** As for a single alert: only close_all may omit the symbol. */
function requireSymbolUnlessCloseAll(ctx: {
  value: { symbol?: string | undefined; action: Action };
  issues: z.core.$ZodRawIssue[];
}): void {
  if (ctx.value.symbol === undefined && ctx.value.action !== 'close_all') {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value.symbol,
      path: ['symbol'],
      message: `symbol is required for ${ctx.value.action} (only close_all may omit it)`,
    });
  }
}

/**
 * Account groups (docs/decisions/0022-account-groups.md): one alert naming `group_id` instead of
 * `account_id` becomes one signal per member account, recorded together at ingress.
 */

/** Most members one group may have (one alert → at most this many signals, recorded in one transaction). */
export const MAX_GROUP_MEMBERS = 500;

/** Group ids use the account id alphabet: letters, digits, "_", "-", ".". */
export const groupIdSchema = z
  .string({ error: 'group_id must be a string' })
  .regex(/^ *[A-Za-z0-9_.-]* *$/, 'group_id may contain letters, digits, "_", "-" and "."')
  .trim()
  .min(1, 'group_id is required')
  .max(64, 'group_id is at most 64 characters');

const positiveNumber = (field: string, max: number) =>
  z
    .number({ error: `${field} must be a number` })
    .finite()
    .positive({ error: `${field} must be greater than 0`, abort: true })
    .min(NUMBER_BOUNDS.quantity.min, `${field} must be at least ${NUMBER_BOUNDS.quantity.min}`)
    .max(max, `${field} must be at most ${max}`);

/** A member's sizing override: a fixed `quantity`, or a `quantity_multiplier` on the alert's quantity. */
export const memberSizingSchema = z
  .object({
    quantity: positiveNumber('quantity', NUMBER_BOUNDS.quantity.max).nullable().optional(),
    quantity_multiplier: positiveNumber('quantity_multiplier', 1000).nullable().optional(),
  })
  .check((ctx) => {
    if (ctx.value.quantity != null && ctx.value.quantity_multiplier != null) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: ['quantity_multiplier'],
        message: 'give quantity or quantity_multiplier, not both',
      });
    }
  });
export type MemberSizing = z.infer<typeof memberSizingSchema>;

export const groupMemberInputSchema = z.object({
  exchange: exchangeSchema,
  account_id: accountIdSchema,
  quantity: memberSizingSchema.shape.quantity,
  quantity_multiplier: memberSizingSchema.shape.quantity_multiplier,
});
export type GroupMemberInput = z.infer<typeof groupMemberInputSchema>;

function oneSizingPerMember(ctx: { value: GroupMemberInput[]; issues: z.core.$ZodRawIssue[] }): void {
  const seen = new Set<string>();
  ctx.value.forEach((m, i) => {
    if (m.quantity != null && m.quantity_multiplier != null) {
      ctx.issues.push({
        code: 'custom',
        input: m,
        path: [i, 'quantity_multiplier'],
        message: 'give quantity or quantity_multiplier, not both',
      });
    }
    const key = `${m.exchange}:${m.account_id}`;
    if (seen.has(key)) {
      ctx.issues.push({ code: 'custom', input: m, path: [i], message: `${key} is listed twice` });
    }
    seen.add(key);
  });
}

export const groupMembersSchema = z
  .array(groupMemberInputSchema)
  .max(MAX_GROUP_MEMBERS, `a group has at most ${MAX_GROUP_MEMBERS} members`)
  .check(oneSizingPerMember);

/** `POST /api/v1/groups`. */
export const createGroupSchema = z.object({
  group_id: groupIdSchema,
  name: z.string().trim().max(200).optional(),
  /** Optional per-group webhook secret; when set, group alerts must carry it instead of WEBHOOK_SECRET. */
  webhook_secret: z.string().min(16, 'webhook_secret must be at least 16 characters').max(256).optional(),
  members: groupMembersSchema.default([]),
});
export type CreateGroupRequest = z.infer<typeof createGroupSchema>;

/** `PATCH /api/v1/groups/:group_id`: name and secret (`null` clears them). */
export const updateGroupSchema = z.object({
  name: z.string().trim().max(200).nullable().optional(),
  webhook_secret: z
    .string()
    .min(16, 'webhook_secret must be at least 16 characters')
    .max(256)
    .nullable()
    .optional(),
});
export type UpdateGroupRequest = z.infer<typeof updateGroupSchema>;

/** `POST /api/v1/groups/:group_id/members`: adds members (an existing member's sizing is replaced). */
export const addMembersSchema = z.object({ members: groupMembersSchema.min(1, 'members is empty') });

/**
 * A group alert: the webhook payload with `group_id` in place of `account_id`. `exchange` may be left out
 * (each member trades on its own account's exchange); when given, every member must be on it.
 */
export const groupWebhookPayloadSchema = webhookFields
  .omit({ account_id: true, exchange: true })
  .extend({
    group_id: groupIdSchema,
    exchange: webhookFields.shape.exchange.optional(),
  })
  .check(requireSymbolUnlessCloseAll)
  .check((ctx) => {
    // The same rules between fields as a single alert's (webhook.ts).
    for (const issue of [
      ...entryFieldIssues(ctx.value),
      ...notYetExecutedIssues(ctx.value),
      ...orderTypeIssues(ctx.value),
    ])
      ctx.issues.push({ code: 'custom', input: ctx.value, ...issue });
  });
export type GroupWebhookPayload = z.infer<typeof groupWebhookPayloadSchema>;

/** The quantity a member's own signal carries: its fixed quantity, else the alert's × its multiplier. */
export function memberQuantity(
  alertQuantity: number | undefined,
  sizing: { quantity: number | null; quantityMultiplier: number | null },
): number | undefined {
  if (sizing.quantity !== null) return sizing.quantity;
  if (alertQuantity === undefined) return undefined;
  if (sizing.quantityMultiplier === null) return alertQuantity;
  // 12 significant digits: no float noise (0.1 × 3); the worker rounds to the symbol's step anyway.
  return Number((alertQuantity * sizing.quantityMultiplier).toPrecision(12));
}
