import { Router } from 'express';
import type { IngressDeps } from '../deps.ts';

export function createWebhookRouter(_deps: IngressDeps): Router {
  const router = Router();
  return router;
}
