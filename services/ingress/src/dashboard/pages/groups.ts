import { groupIdSchema } from '@tradehook/contracts';
import { findGroup, listGroupMembers, listGroups } from '@tradehook/db';
import type { Router } from 'express';
import { ApiError } from '../../http-errors.ts';
import { html, t, timeCell } from '../html.ts';
import { BASE, page } from '../layout.ts';
import { sendPage, type DashboardContext } from '../respond.ts';
import { sessionOf } from '../session.ts';

const sizing = (m: { quantity: number | null; quantityMultiplier: number | null }) =>
  m.quantity !== null
    ? html`${t('고정 수량', 'fixed quantity')} <code>${m.quantity}</code>`
    : m.quantityMultiplier !== null
      ? html`${t('알림 수량 ×', 'alert quantity ×')} <code>${m.quantityMultiplier}</code>`
      : html`<span class="muted">${t('알림 그대로', 'as the alert')}</span>`;

/**
 * Account groups (docs/decisions/0022-account-groups.md): the groups with their member counts, and per group
 * its members with their sizing and their own kill switch. Groups are changed through the admin API.
 */
export function groupsPages(router: Router, ctx: DashboardContext): void {
  const { deps } = ctx;

  router.get(`${BASE}/groups`, ...ctx.pages, async (_req, res) => {
    const groups = await listGroups(deps.pgPool);
    const body = html`<h1>${t('계정 그룹', 'Account groups')}</h1>
      <p class="muted">
        ${t(
          '알림에 group_id를 넣으면 그룹의 모든 계정에 각각의 신호로 주문합니다. 그룹은 관리자 API(/api/v1/groups)로 관리합니다.',
          'An alert with group_id trades on every member account, one signal each. Groups are managed through the admin API (/api/v1/groups).',
        )}
      </p>
      <div class="table-wrap">
        <table data-testid="groups-table">
          <tr>
            <th>${t('그룹', 'Group')}</th>
            <th>${t('이름', 'Name')}</th>
            <th>${t('계정 수', 'Members')}</th>
            <th>${t('전용 시크릿', 'Own secret')}</th>
            <th>${t('변경', 'Updated')}</th>
          </tr>
          ${
            groups.length === 0
              ? html`<tr>
                  <td colspan="5" class="muted">${t('그룹 없음', 'No groups')}</td>
                </tr>`
              : groups.map(
                  (g) =>
                    html`<tr data-group="${g.groupId}">
                      <td><a href="${BASE}/groups/${g.groupId}">${g.groupId}</a></td>
                      <td>${g.name ?? ''}</td>
                      <td data-testid="member-count">${g.memberCount}</td>
                      <td>${g.webhookSecretHash ? 'yes' : 'no'}</td>
                      <td>${timeCell(g.updatedAt)}</td>
                    </tr>`,
                )
          }
        </table>
      </div>`;
    sendPage(res, page({ title: 'Groups', active: 'groups', csrf: sessionOf(res).csrf, body }));
  });

  router.get(`${BASE}/groups/:group_id`, ...ctx.pages, async (req, res) => {
    const groupId = groupIdSchema.safeParse(req.params.group_id);
    const group = groupId.success ? await findGroup(deps.pgPool, groupId.data) : null;
    if (!group) throw new ApiError('group_not_found', 'Group not found / 그룹을 찾을 수 없습니다');
    const members = await listGroupMembers(deps.pgPool, group.id);
    const body = html`<h1>${t('계정 그룹', 'Account group')} <code>${group.groupId}</code></h1>
      <p class="muted">
        ${group.name ?? ''} · ${members.length} ${t('계정', 'members')} ·
        ${t('한도는 각 계정의 리스크 한도를 따릅니다', "limits are each member account's own risk limits")}
      </p>
      <div class="table-wrap">
        <table data-testid="group-members">
          <tr>
            <th>${t('계정', 'Account')}</th>
            <th>${t('수량', 'Sizing')}</th>
            <th>${t('거래', 'Trading')}</th>
            <th>${t('추가됨', 'Added')}</th>
          </tr>
          ${members.map(
            (m) =>
              html`<tr data-member="${m.exchange}/${m.accountId}">
                <td>
                  <a href="${BASE}/accounts/${m.exchange}/${m.accountId}">${m.exchange}/${m.accountId}</a>
                </td>
                <td>${sizing(m)}</td>
                <td>
                  ${
                    m.tradingEnabled
                      ? html`<span class="badge status-executed">${t('가능', 'enabled')}</span>`
                      : html`<span class="badge status-rejected" data-testid="member-halted"
                          >${t('중지됨', 'halted')}</span
                        >`
                  }
                </td>
                <td>${timeCell(m.createdAt)}</td>
              </tr>`,
          )}
        </table>
      </div>
      <p><a href="${BASE}/groups">← ${t('그룹 목록', 'All groups')}</a></p>`;
    sendPage(
      res,
      page({ title: `Group ${group.groupId}`, active: 'groups', csrf: sessionOf(res).csrf, body }),
    );
  });
}
