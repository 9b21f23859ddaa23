import { safeEqual } from '@tradehook/credentials';
import type { RequestHandler } from 'express';
import { sendError } from './http-errors.ts';

/**
 * Admin API guard: `Authorization: Bearer $ADMIN_TOKEN`, compared in constant time. Every admin route
 * (accounts, account status with balances, signals, limits) sits behind it.
 */
export function requireAdmin(adminToken: string): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match?.[1] || !safeEqual(match[1], adminToken)) {
      res.set('WWW-Authenticate', 'Bearer realm="tradehook-admin"');
      sendError(res, 'unauthorized', 'admin token required: Authorization: Bearer <ADMIN_TOKEN>');
      return;
    }
    next();
  };
}
