import { describe, expect, it } from 'vitest';
import { BINANCE_ROUTE_KEYS } from './binance/routes.ts';
import { OKX_ROUTE_KEYS } from './okx/routes.ts';
import { BINANCE_WEIGHT, OKX_RULES } from './rate-limit-rules.ts';

// The weight / rate-limit tables are keyed like the route tables; a key there that no route answers is a typo,
// except the endpoints whose documented weight is listed though the simulator does not serve them (yet).
const NOT_SERVED = ['POST /fapi/v1/batchOrders', 'PUT /fapi/v1/order', 'POST /api/v5/trade/close-position'];
describe('route tables', () => {
  it('every Binance weight entry names a route', () => {
    const routes = new Set(BINANCE_ROUTE_KEYS);
    expect(Object.keys(BINANCE_WEIGHT).filter((k) => !routes.has(k) && !NOT_SERVED.includes(k))).toEqual([]);
  });
  it('every OKX rate-limit rule names a route', () => {
    const routes = new Set(OKX_ROUTE_KEYS.map((k) => (k.includes(' ') ? k : `GET ${k}`)));
    expect(Object.keys(OKX_RULES).filter((k) => !routes.has(k) && !NOT_SERVED.includes(k))).toEqual([]);
  });
});
