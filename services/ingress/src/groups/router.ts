import { randomUUID } from 'node:crypto';
import {
  accountIdSchema,
  addMembersSchema,
  createGroupSchema,
  groupIdSchema,
  issueSummary,
  MAX_GROUP_MEMBERS,
  memberSizingSchema,
  updateGroupSchema,
  type GroupMemberInput,
} from '@tradehook/contracts';
import { hashWebhookSecret } from '@tradehook/credentials';
import {
  deleteGroup,
  findGroup,
  insertGroup,
  listGroupMembers,
  listGroups,
  removeGroupMember,
  updateGroup,
  upsertGroupMembers,
  type GroupMemberRecord,
  type GroupRecord,
  type MemberChange,
} from '@tradehook/db';
import { Router, type Request } from 'express';
import type { z } from 'zod';
import { parseExchange } from '../accounts/register.ts';
import { adminGuard } from '../admin-guard.ts';
import type { IngressDeps } from '../deps.ts';
import { ApiError, validationFailed } from '../http-errors.ts';
import { requestLogger } from '../request-context.ts';

/**
 * Admin API of account groups (docs/decisions/0022-account-groups.md), Bearer ADMIN_TOKEN on every route:
 * - `POST /api/v1/groups` — create (201; taken group_id → 409), optionally with its members;
 * - `GET /api/v1/groups`, `GET /api/v1/groups/:group_id` (with members);
 * - `PATCH /api/v1/groups/:group_id` — name, webhook_secret; `DELETE /api/v1/groups/:group_id`;
 * - `POST /api/v1/groups/:group_id/members` — add members (sizing of an existing member is replaced);
 * - `PUT|DELETE /api/v1/groups/:group_id/members/:exchange/:account_id` — add/update one, remove one.
 * Members must be registered accounts; a group has at most MAX_GROUP_MEMBERS.
 */
export function createGroupsRouter(deps: IngressDeps): Router {
  const router = Router();
  const admin = adminGuard(deps);
  const db = deps.pgPool;

  function body<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
    if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ApiError('malformed', 'a JSON object body is required (Content-Type: application/json)');
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw validationFailed(parsed.error, issueSummary(parsed.error, { root: '(body)' }));
    return parsed.data;
  }

  function groupIdOf(req: Request): string {
    const parsed = groupIdSchema.safeParse(req.params.group_id);
    if (!parsed.success) throw new ApiError('malformed', parsed.error.issues[0]?.message ?? 'bad group_id');
    return parsed.data;
  }

  async function group(req: Request): Promise<GroupRecord> {
    const groupId = groupIdOf(req);
    const found = await findGroup(db, groupId);
    if (!found) throw new ApiError('group_not_found', `account group "${groupId}" not found`);
    return found;
  }

  const changes = (members: GroupMemberInput[]): MemberChange[] =>
    members.map((m) => ({
      exchange: m.exchange,
      accountId: m.account_id,
      quantity: m.quantity ?? null,
      quantityMultiplier: m.quantity_multiplier ?? null,
    }));

  async function addMembers(groupId: string, members: MemberChange[]) {
    const result = await upsertGroupMembers(db, groupId, members, MAX_GROUP_MEMBERS);
    if (result.ok) return result;
    switch (result.reason) {
      case 'group_not_found':
        throw new ApiError('group_not_found', `account group "${groupId}" not found`);
      case 'unknown_accounts':
        throw new ApiError(
          'validation_failed',
          `unknown account(s), register them first: ${result.unknown.slice(0, 10).join(', ')}${result.unknown.length > 10 ? ` and ${result.unknown.length - 10} more` : ''}`,
          result.unknown.map((key) => ({ path: 'members', message: `${key} is not a registered account` })),
        );
      case 'too_many':
        throw new ApiError(
          'validation_failed',
          `a group has at most ${MAX_GROUP_MEMBERS} members; this would make ${result.count}`,
        );
    }
  }

  const memberView = (m: GroupMemberRecord) => ({
    exchange: m.exchange,
    account_id: m.accountId,
    quantity: m.quantity,
    quantity_multiplier: m.quantityMultiplier,
    trading_enabled: m.tradingEnabled,
    added_at: m.createdAt.toISOString(),
  });
  const groupView = (g: GroupRecord) => ({
    group_id: g.groupId,
    name: g.name,
    has_webhook_secret: g.webhookSecretHash !== null,
    created_at: g.createdAt.toISOString(),
    updated_at: g.updatedAt.toISOString(),
  });
  async function fullView(g: GroupRecord) {
    const members = await listGroupMembers(db, g.id);
    return { ...groupView(g), member_count: members.length, members: members.map(memberView) };
  }

  router.post('/api/v1/groups', ...admin, async (req, res) => {
    const input = body(createGroupSchema, req.body);
    const created = await insertGroup(db, {
      id: randomUUID(),
      groupId: input.group_id,
      name: input.name ?? null,
      webhookSecretHash: input.webhook_secret ? hashWebhookSecret(input.webhook_secret) : null,
    });
    if (!created) throw new ApiError('conflict', `account group "${input.group_id}" already exists`);
    if (input.members.length > 0) {
      try {
        await addMembers(input.group_id, changes(input.members));
      } catch (err) {
        // All or nothing: a group whose members were refused is not left behind half made.
        await deleteGroup(db, input.group_id);
        throw err;
      }
    }
    requestLogger(res).info('account group created', {
      groupId: input.group_id,
      members: input.members.length,
    });
    res.status(201).json({ success: true, message: 'Group created', group: await fullView(created) });
  });

  router.get('/api/v1/groups', ...admin, async (_req, res) => {
    const groups = await listGroups(db);
    res.json({
      success: true,
      count: groups.length,
      groups: groups.map((g) => ({ ...groupView(g), member_count: g.memberCount })),
    });
  });

  router.get('/api/v1/groups/:group_id', ...admin, async (req, res) => {
    res.json({ success: true, group: await fullView(await group(req)) });
  });

  router.patch('/api/v1/groups/:group_id', ...admin, async (req, res) => {
    const g = await group(req);
    const patch = body(updateGroupSchema, req.body);
    await updateGroup(db, g.groupId, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.webhook_secret !== undefined
        ? {
            webhookSecretHash: patch.webhook_secret === null ? null : hashWebhookSecret(patch.webhook_secret),
          }
        : {}),
    });
    requestLogger(res).info('account group changed', { groupId: g.groupId, fields: Object.keys(patch) });
    res.json({
      success: true,
      message: 'Group updated',
      group: await fullView((await findGroup(db, g.groupId)) ?? g),
    });
  });

  router.delete('/api/v1/groups/:group_id', ...admin, async (req, res) => {
    const groupId = groupIdOf(req);
    if (!(await deleteGroup(db, groupId)))
      throw new ApiError('group_not_found', `account group "${groupId}" not found`);
    requestLogger(res).info('account group deleted', { groupId });
    res.json({ success: true, message: 'Group deleted (its accounts are kept)', group_id: groupId });
  });

  router.post('/api/v1/groups/:group_id/members', ...admin, async (req, res) => {
    const groupId = groupIdOf(req);
    const input = body(addMembersSchema, req.body);
    const result = await addMembers(groupId, changes(input.members));
    requestLogger(res).info('account group members added', { groupId, ...result });
    const g = await findGroup(db, groupId);
    res.json({
      success: true,
      message: `${result.added} member(s) added, ${result.updated} updated`,
      added: result.added,
      updated: result.updated,
      group: g ? await fullView(g) : null,
    });
  });

  const MEMBER = '/api/v1/groups/:group_id/members/:exchange/:account_id';
  function memberKey(req: Request) {
    const accountId = accountIdSchema.safeParse(req.params.account_id);
    if (!accountId.success)
      throw new ApiError('malformed', accountId.error.issues[0]?.message ?? 'bad account_id');
    return { exchange: parseExchange(req.params.exchange), accountId: accountId.data };
  }

  router.put(MEMBER, ...admin, async (req, res) => {
    const groupId = groupIdOf(req);
    const { exchange, accountId } = memberKey(req);
    const sizing = body(memberSizingSchema, req.body ?? {});
    const result = await addMembers(groupId, [
      {
        exchange,
        accountId,
        quantity: sizing.quantity ?? null,
        quantityMultiplier: sizing.quantity_multiplier ?? null,
      },
    ]);
    requestLogger(res).info('account group member set', { groupId, exchange, accountId });
    res.status(result.added ? 201 : 200).json({
      success: true,
      message: result.added ? 'Member added' : 'Member updated',
      group_id: groupId,
      exchange,
      account_id: accountId,
      quantity: sizing.quantity ?? null,
      quantity_multiplier: sizing.quantity_multiplier ?? null,
    });
  });

  router.delete(MEMBER, ...admin, async (req, res) => {
    const g = await group(req);
    const { exchange, accountId } = memberKey(req);
    if (!(await removeGroupMember(db, g.id, exchange, accountId))) {
      throw new ApiError('not_found', `${exchange}:${accountId} is not a member of group "${g.groupId}"`);
    }
    requestLogger(res).info('account group member removed', { groupId: g.groupId, exchange, accountId });
    res.json({
      success: true,
      message: 'Member removed (the account is kept)',
      group_id: g.groupId,
      exchange,
      account_id: accountId,
    });
  });

  return router;
}
