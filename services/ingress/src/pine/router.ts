import {
  exportPineRequestSchema,
  exportSizing,
  fieldIssues,
  WEBHOOK_SECRET_PLACEHOLDER,
  type ExportPineRequest,
  type ExportPineResponse,
} from '@tradehook/contracts';
import { Router, type Request } from 'express';
import type { IngressDeps } from '../deps.ts';
import { ApiError, sendError } from '../http-errors.ts';
import { adminGuard } from '../admin-guard.ts';
import { generatePineScript, type AlertTarget } from './generator.ts';
import { findPreset, PINE_PRESETS, presetSummary } from './presets.ts';
import { dialogTemplates } from './templates.ts';

export const WEBHOOK_PATH = '/api/v1/webhook/tradingview';

/** Derived from this request (honours TRUST_PROXY); TradingView needs the public http(s) URL on port 80/443. */
function webhookUrlHint(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'your-server'}${WEBHOOK_PATH}`;
}

/**
 * The export of one validated request (admin API and dashboard). Throws ApiError for an unknown preset,
 * or an embedded secret the server cannot read back.
 */
export async function exportPine(
  deps: IngressDeps,
  request: ExportPineRequest,
  webhookUrl: string,
): Promise<ExportPineResponse> {
  const preset = findPreset(request.preset_id);
  if (!preset) {
    throw new ApiError('not_found', `unknown preset "${request.preset_id}"`, undefined, {
      presets: PINE_PRESETS.map((p) => p.id),
    });
  }

  const accountId = request.account_id ?? `my_${request.exchange}_account`;
  const account = await deps.prisma.account.findUnique({
    where: { exchange_accountId: { exchange: request.exchange, accountId } },
    select: { webhookSecretHash: true },
  });
  const notes: string[] = [];
  if (request.embed_secret && account?.webhookSecretHash) {
    throw new ApiError(
      'validation_failed',
      `account "${accountId}" on ${request.exchange} has its own webhook secret, which the server cannot ` +
        `read back: export without embed_secret and replace ${WEBHOOK_SECRET_PLACEHOLDER} with it`,
    );
  }
  if (!account) {
    notes.push(
      `Account "${accountId}" is not registered on ${request.exchange} yet: register it ` +
        `(POST /api/v1/accounts/${request.exchange}/register) before enabling the alert, or alerts answer 404.`,
    );
  }
  if (!request.embed_secret) {
    notes.push(
      `Replace every ${WEBHOOK_SECRET_PLACEHOLDER} with your webhook secret ` +
        `(the account's own webhook_secret if it has one, otherwise WEBHOOK_SECRET).`,
    );
  } else {
    notes.push('The script contains your webhook secret: do not publish or share it.');
  }
  notes.push(
    'Entries include max_lag: an entry that reaches the server more than max_lag seconds after it fired is ' +
      'refused (exits are never refused for lateness). Keep server time in sync (NTP).',
    'The server deduplicates by alert_id (action, symbol, preset, timeframe, bar time): one entry and one exit ' +
      'per bar at most; another preset or timeframe on the same symbol has its own ids.',
  );

  const sizing = exportSizing(request);
  const target: AlertTarget = {
    exchange: request.exchange,
    accountId,
    symbol: request.symbol,
    leverage: request.leverage ?? preset.defaultLeverage,
    maxLag: request.max_lag,
    includeStops: request.include_stops,
    secret: request.embed_secret ? deps.config.WEBHOOK_SECRET : WEBHOOK_SECRET_PLACEHOLDER,
    ...(sizing ? { sizing } : {}),
    ...(request.trailing_pct !== undefined ? { trailingPct: request.trailing_pct } : {}),
    ...(request.break_even_pct !== undefined ? { breakEvenPct: request.break_even_pct } : {}),
  };
  const generated = generatePineScript(preset, target);
  const response: ExportPineResponse = {
    success: true,
    ...presetSummary(preset),
    options: {
      exchange: target.exchange,
      account_id: target.accountId,
      symbol: target.symbol,
      leverage: target.leverage,
      ...(sizing ? { [sizing.field]: sizing.value } : {}),
      ...(target.trailingPct !== undefined ? { trailing_pct: target.trailingPct } : {}),
      ...(target.breakEvenPct !== undefined ? { break_even_pct: target.breakEvenPct } : {}),
      max_lag: target.maxLag,
      include_stops: target.includeStops,
      secret_embedded: request.embed_secret,
    },
    script: generated.script,
    alerts: { in_script: generated.alerts, dialog_templates: dialogTemplates(target) },
    webhook_url_hint: webhookUrl,
    notes,
  };
  return response;
}

/** Guide "Pine Script 설정": preset list and script export (admin API). */
export function createPineRouter(deps: IngressDeps): Router {
  const router = Router();

  router.get('/api/v1/simple/presets', ...adminGuard(deps), (_req, res) => {
    res.json({ success: true, presets: PINE_PRESETS.map(presetSummary) });
  });

  router.post('/api/v1/simple/export-pine', ...adminGuard(deps), async (req, res) => {
    const body: unknown = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      sendError(res, 'malformed', 'expected a JSON object such as {"preset_id":"balanced_trader"}');
      return;
    }
    const parsed = exportPineRequestSchema.safeParse(body);
    if (!parsed.success) {
      sendError(res, 'validation_failed', 'invalid export request', fieldIssues(parsed.error));
      return;
    }
    const request = parsed.data;
    const response = await exportPine(deps, request, webhookUrlHint(req));
    // The answer may hold the webhook secret: keep it out of every cache.
    res.set('Cache-Control', 'no-store');
    res.json(response);
  });

  return router;
}
