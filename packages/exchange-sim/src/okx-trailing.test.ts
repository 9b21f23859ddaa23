/** OKX trailing stop (algo ordType move_order_stop, okx/trailing.ts) through the real ccxt client. */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startSimulator, type Simulator } from './server.ts';
import { okxAccount, rejects, setPrice } from '../test/support.ts';
import { proOkx } from './ws/pro-test-helpers.ts';

const BTC = 'BTC/USDT:USDT';
const INST = 'BTC-USDT-SWAP';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

type Row = Record<string, string>;
const open = (ex: Awaited<ReturnType<typeof okxAccount>>['ex']) =>
  ex.fetchOpenOrders(BTC, undefined, undefined, { trailing: true });
const held = async (ex: Awaited<ReturnType<typeof okxAccount>>['ex']) =>
  (await ex.fetchPositions([BTC])).filter((p) => (p.contracts ?? 0) > 0).length;

describe('okx move_order_stop via ccxt', () => {
  it('is placed from trailingPercent, listed on its own, trails the high and fires', async () => {
    await setPrice(sim, INST, 60000);
    const { ex } = await okxAccount(sim);
    await ex.createOrder(BTC, 'market', 'buy', 1);
    const ts = await ex.createOrder(BTC, 'market', 'sell', 1, undefined, {
      trailingPercent: 1,
      reduceOnly: true,
      algoClOrdId: 'thtrail1',
    });
    const [row] = (await open(ex)).map((o) => o.info as Row);
    expect(row).toMatchObject({
      algoId: ts.id,
      algoClOrdId: 'thtrail1',
      ordType: 'move_order_stop',
      callbackRatio: '0.01',
      state: 'live',
      moveTriggerPx: '59400',
    });
    // Not in a combined query: only conditional and oco may be asked together.
    const mixed = await rejects(() =>
      ex.fetchOpenOrders(BTC, undefined, undefined, {
        trigger: true,
        ordType: 'conditional,move_order_stop',
      }),
    );
    expect(mixed.message).toContain('51000');
    const conditional = await ex.fetchOpenOrders(BTC, undefined, undefined, {
      trigger: true,
      ordType: 'conditional,oco',
    });
    expect(conditional).toHaveLength(0);
    await setPrice(sim, INST, 61000); // new high: trigger moves to 60390
    expect(((await open(ex))[0]!.info as Row).moveTriggerPx).toBe('60390');
    await setPrice(sim, INST, 60500); // 0.82 % off the high
    expect(await held(ex)).toBe(1);
    await setPrice(sim, INST, 60380); // 1.02 % off the high: fires
    expect(await held(ex)).toBe(0);
    expect(await open(ex)).toHaveLength(0);
    const done = await ex.fetchOrder(ts.id as string, BTC, { trigger: true });
    expect(done.info as Row).toMatchObject({ state: 'effective', ordType: 'move_order_stop' });
    const history = await ex.fetchClosedOrders(BTC, undefined, undefined, { trailing: true });
    expect(history.map((o) => o.id)).toContain(ts.id);
  });

  it('with activePx and callbackSpread: nothing until the price reaches it; a short trails the low', async () => {
    await setPrice(sim, INST, 60000);
    const { ex } = await okxAccount(sim);
    await ex.createOrder(BTC, 'market', 'sell', 1);
    const passed = await rejects(() =>
      ex.createOrder(BTC, 'market', 'buy', 1, undefined, {
        trailingPrice: 300,
        activePx: '61000',
        reduceOnly: true,
      }),
    );
    expect(passed.message).toContain('51259');
    await ex.createOrder(BTC, 'market', 'buy', 1, undefined, {
      trailingPrice: 300,
      activePx: '59000',
      reduceOnly: true,
    });
    const [row] = (await open(ex)).map((o) => o.info as Row);
    expect(row).toMatchObject({
      callbackSpread: '300',
      callbackRatio: '',
      activePx: '59000',
      moveTriggerPx: '',
    });
    await setPrice(sim, INST, 60400); // not active: no trigger though 400 above the entry
    expect(await held(ex)).toBe(1);
    await setPrice(sim, INST, 58800); // active, low 58800 → trigger 59100
    await setPrice(sim, INST, 59000);
    expect(await held(ex)).toBe(1);
    await setPrice(sim, INST, 59150);
    expect(await held(ex)).toBe(0);
  });

  it('refuses a callback out of range, both callback forms, or neither', async () => {
    await setPrice(sim, INST, 60000);
    const { ex } = await okxAccount(sim);
    await ex.createOrder(BTC, 'market', 'buy', 1);
    const wide = await rejects(() =>
      ex.createOrder(BTC, 'market', 'sell', 1, undefined, { trailingPercent: 11, reduceOnly: true }),
    );
    expect(wide.message).toContain('51257');
    const both = await rejects(() =>
      ex.createOrder(BTC, 'market', 'sell', 1, undefined, {
        trailingPercent: 1,
        callbackSpread: '100',
        reduceOnly: true,
      }),
    );
    expect(both.message).toContain('50024');
    const neither = await rejects(() =>
      ex.createOrder(BTC, 'market', 'sell', 1, undefined, { ordType: 'move_order_stop', reduceOnly: true }),
    );
    expect(neither.message).toMatch(/50015|51000/);
  });

  it('is pushed on algo-advance (business URL)', async () => {
    await setPrice(sim, INST, 60000);
    const { ex, key, secret } = await proOkx(sim);
    await ex.loadMarkets();
    await ex.createOrder(BTC, 'market', 'buy', 1);
    const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/wspap.okx.com:8443/ws/v5/business`);
    const inbox: Row[] = [];
    ws.on('message', (d) => inbox.push(JSON.parse(String(d)) as Row));
    await new Promise((r) => ws.once('open', r));
    const now = String(Math.floor(Date.now() / 1000));
    const sign = createHmac('sha256', secret).update(`${now}GET/users/self/verify`).digest('base64');
    ws.send(
      JSON.stringify({ op: 'login', args: [{ apiKey: key, passphrase: 'Pass-1', timestamp: now, sign }] }),
    );
    const until = async (ok: (m: Row) => boolean) => {
      for (let i = 0; i < 200 && !inbox.some(ok); i++) await new Promise((r) => setTimeout(r, 25));
      return inbox.find(ok);
    };
    expect(await until((m) => m['event'] === 'login')).toMatchObject({ code: '0' });
    ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'algo-advance', instType: 'SWAP' }] }));
    await until((m) => m['event'] === 'subscribe');
    await ex.createOrder(BTC, 'market', 'sell', 1, undefined, {
      trailingPercent: 2,
      reduceOnly: true,
      algoClOrdId: 'thtrail2',
    });
    const pushed = await until((m) => Array.isArray(m['data']));
    const data = (pushed as unknown as { arg: Row; data: Row[] }) ?? { arg: {}, data: [] };
    expect(data.arg.channel).toBe('algo-advance');
    expect(data.data[0]).toMatchObject({
      ordType: 'move_order_stop',
      algoClOrdId: 'thtrail2',
      state: 'live',
    });
    ws.close();
    await ex.close();
  });
});
