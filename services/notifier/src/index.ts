export { createNotifierService, type NotifierService } from './service.ts';
export { loadNotifierConfig, notifierEnvSchema, type NotifierConfig } from './config.ts';
export { signWebhook } from './channels.ts';
