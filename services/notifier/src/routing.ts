import { ConfigError } from '@tradehook/config';
import { EXCHANGES, type NotificationEvent } from '@tradehook/contracts';
import { discordChannel, telegramChannel, webhookChannel, type Channel } from './channels.ts';
import type { NotifierConfig } from './config.ts';

/**
 * Which channels hear about which account. Rules come from NOTIFY_ROUTES; the most specific selector matching an
 * event's account wins. Events of no account (global kill switch, a worker down) go to every channel any rule
 * names: everyone trading through this install needs to know.
 */
export interface Router {
  readonly channels: ReadonlyMap<string, Channel>;
  /** Channel keys for one event (empty: nobody listens). */
  route(event: NotificationEvent): string[];
}

const SELECTOR = new RegExp(`^(\\*|(${EXCHANGES.join('|')}):(\\*|[A-Za-z0-9_-]{1,64}))$`);

export function buildRouter(config: NotifierConfig, fetchTimeoutMs = 10_000): Router {
  const locale = config.NOTIFY_LOCALE;
  const channels = new Map<string, Channel>();
  const add = (c: Channel) => {
    if (!channels.has(c.key)) channels.set(c.key, c);
    return c.key;
  };
  const telegram = (chatId: string | undefined): string => {
    if (!config.TELEGRAM_BOT_TOKEN)
      throw new ConfigError('NOTIFY_ROUTES names telegram but TELEGRAM_BOT_TOKEN is not set');
    if (!chatId)
      throw new ConfigError('NOTIFY_ROUTES names telegram without a chat id and TELEGRAM_CHAT_ID is not set');
    return add(
      telegramChannel({
        token: config.TELEGRAM_BOT_TOKEN,
        chatId,
        locale,
        apiRoot: config.TELEGRAM_API_ROOT,
        timeoutSeconds: Math.ceil(fetchTimeoutMs / 1000),
      }),
    );
  };
  const discord = (): string => {
    if (!config.DISCORD_WEBHOOK_URL)
      throw new ConfigError('NOTIFY_ROUTES names discord but DISCORD_WEBHOOK_URL is not set');
    return add(discordChannel({ url: config.DISCORD_WEBHOOK_URL, locale, timeoutMs: fetchTimeoutMs }));
  };
  const webhook = (): string => {
    if (!config.NOTIFY_WEBHOOK_URL)
      throw new ConfigError('NOTIFY_ROUTES names webhook but NOTIFY_WEBHOOK_URL is not set');
    return add(
      webhookChannel({
        url: config.NOTIFY_WEBHOOK_URL,
        secret: config.NOTIFY_WEBHOOK_SECRET,
        locale,
        timeoutMs: fetchTimeoutMs,
      }),
    );
  };

  const target = (t: string): string[] => {
    if (t === 'none') return [];
    if (t === 'telegram') return [telegram(config.TELEGRAM_CHAT_ID)];
    if (t.startsWith('telegram:')) {
      const chat = t.slice('telegram:'.length);
      if (!/^(-?\d+|@\w{4,})$/.test(chat))
        throw new ConfigError(`NOTIFY_ROUTES: "${t}" is not a telegram chat id`);
      return [telegram(chat)];
    }
    if (t === 'discord') return [discord()];
    if (t === 'webhook') return [webhook()];
    throw new ConfigError(
      `NOTIFY_ROUTES: unknown target "${t}" (telegram, telegram:<chat_id>, discord, webhook, none)`,
    );
  };

  const rules = new Map<string, string[]>();
  const text = config.NOTIFY_ROUTES.trim();
  if (text) {
    for (const rule of text
      .split(';')
      .map((r) => r.trim())
      .filter(Boolean)) {
      const [selector, targets, extra] = rule.split('=').map((p) => p.trim());
      if (!selector || targets === undefined || extra !== undefined || !SELECTOR.test(selector))
        throw new ConfigError(`NOTIFY_ROUTES: "${rule}" is not <*|exchange:*|exchange:account>=<targets>`);
      if (rules.has(selector)) throw new ConfigError(`NOTIFY_ROUTES: "${selector}" is given twice`);
      rules.set(selector, [
        ...new Set(
          targets
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
            .flatMap(target),
        ),
      ]);
    }
  } else {
    // No rules: every configured channel hears everything.
    const all: string[] = [];
    if (config.TELEGRAM_BOT_TOKEN && config.TELEGRAM_CHAT_ID) all.push(telegram(config.TELEGRAM_CHAT_ID));
    if (config.DISCORD_WEBHOOK_URL) all.push(discord());
    if (config.NOTIFY_WEBHOOK_URL) all.push(webhook());
    rules.set('*', all);
  }
  const everyone = [...new Set([...rules.values()].flat())];

  return {
    channels,
    route(event) {
      if (!event.exchange || !event.accountId) return everyone;
      return (
        rules.get(`${event.exchange}:${event.accountId}`) ??
        rules.get(`${event.exchange}:*`) ??
        rules.get('*') ??
        []
      );
    },
  };
}
