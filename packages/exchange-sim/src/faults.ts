/** Fault injection for the next N matching exchange requests. */
import type { Exchange } from './engine.ts';

/**
 * `latency`: the request waits `latency_ms` before it is processed (it lands late, or is refused by the
 * timestamp checks when too late); `late_answer`: processed at once, answered after `latency_ms`.
 */
export type FaultKind =
  'latency' | 'late_answer' | 'http5xx' | 'rate_limit' | 'drop_after_accept' | 'error_code' | 'timeout';

export interface FaultInput {
  exchange?: Exchange | undefined;
  method?: string | undefined;
  /** Substring of the request path, or a regex written as "/…/flags". */
  path?: string | undefined;
  /** Explicit regex source (alternative to path). */
  path_regex?: string | undefined;
  /** Substring of the request's query string or body (e.g. `STOP_MARKET`: only the stop of an SL/TP pair). */
  request_contains?: string | undefined;
  count?: number | undefined;
  kind: FaultKind;
  latency_ms?: number | undefined;
  status?: number | undefined;
  code?: number | string | undefined;
  msg?: string | undefined;
}

export interface Fault extends FaultInput {
  id: number;
  remaining: number;
  hits: number;
  matcher: (path: string) => boolean;
}

const KINDS: readonly FaultKind[] = [
  'latency',
  'late_answer',
  'http5xx',
  'rate_limit',
  'drop_after_accept',
  'error_code',
  'timeout',
];

export class Faults {
  private list: Fault[] = [];
  private seq = 0;

  add(input: FaultInput): Fault {
    if (!KINDS.includes(input.kind)) throw new Error(`unknown fault kind ${String(input.kind)}`);
    if (input.kind === 'error_code' && input.code === undefined)
      throw new Error('error_code fault needs a code');
    const p = input.path ?? '';
    let matcher: (path: string) => boolean;
    // "/…/flags" is a regex when it compiles with valid flags ("/fapi/v1/order" stays a substring).
    const re = /^\/(.+)\/([dgimsuy]*)$/.exec(p);
    let rx: RegExp | undefined;
    if (input.path_regex !== undefined) rx = new RegExp(input.path_regex);
    else if (re) {
      try {
        rx = new RegExp(re[1] ?? '', re[2]);
      } catch {
        rx = undefined;
      }
    }
    if (rx) {
      const r = rx;
      matcher = (path) => r.test(path);
    } else {
      matcher = (path) => path.includes(p);
    }
    const fault: Fault = { ...input, id: ++this.seq, remaining: input.count ?? 1, hits: 0, matcher };
    this.list.push(fault);
    return fault;
  }

  /** Consumes and returns the first fault matching this request, if any. */
  take(exchange: Exchange, method: string, path: string, payload = ''): Fault | undefined {
    const f = this.list.find(
      (x) =>
        x.remaining > 0 &&
        (!x.exchange || x.exchange === exchange) &&
        (!x.method || x.method.toUpperCase() === method.toUpperCase()) &&
        x.matcher(path) &&
        (x.request_contains === undefined || payload.includes(x.request_contains)),
    );
    if (!f) return undefined;
    f.remaining -= 1;
    f.hits += 1;
    if (f.remaining <= 0) this.list = this.list.filter((x) => x !== f);
    return f;
  }

  all(): Array<Omit<Fault, 'matcher'>> {
    return this.list.map(({ matcher: _m, ...rest }) => rest);
  }

  clear(): void {
    this.list = [];
  }
}
