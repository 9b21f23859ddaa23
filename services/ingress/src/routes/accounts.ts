import { Router } from 'express';
import type { IngressDeps } from '../deps.ts';

export function createAccountsRouter(_deps: IngressDeps): Router {
  const router = Router();
  return router;
}
