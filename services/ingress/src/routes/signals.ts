import { Router } from 'express';
import type { IngressDeps } from '../deps.ts';

export function createSignalsRouter(_deps: IngressDeps): Router {
  const router = Router();
  return router;
}
