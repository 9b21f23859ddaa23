/** Minimal request/response types shared by the dialects and the control API. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Engine } from './engine.ts';
import type { Faults } from './faults.ts';

export interface SimRequest {
  method: string;
  /** Path starting at /fapi, /sapi, /api/v5 or /_sim (any mount prefix removed). */
  path: string;
  rawQuery: string;
  query: URLSearchParams;
  body: string;
  headers: IncomingHttpHeaders;
  /** Arrival time of the request (ms since epoch, sub-ms precision). */
  arrivalMs: number;
}

export interface Reply {
  status: number;
  body: unknown;
  /** Body is sent as-is (text/plain) instead of JSON. */
  raw?: boolean;
  headers?: Record<string, string>;
}

export interface Sim {
  engine: Engine;
  faults: Faults;
  /** Added to every exchange request. */
  latencyMs: number;
  /** Timestamp tolerance overrides (tests). */
  okxWindowMs?: number;
}

export function reply(body: unknown, status = 200): Reply {
  return { status, body };
}
