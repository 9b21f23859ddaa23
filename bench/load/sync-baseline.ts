import express from 'express';
import { createCcxtClient } from '../../packages/exchange/src/index.ts';

/**
 * The naive synchronous bot the wire benchmark compares with: Express + one ccxt client, markets loaded at
 * start, one `createMarketOrder` per alert, answered when the exchange answers. ccxt's own throttle is on (its
 * default), nothing is read before the order. Env: SIM_URL, API_KEY, API_SECRET, PORT. Prints "listening <port>".
 */
const client = createCcxtClient({
  exchange: 'binance',
  credentials: { apiKey: process.env.API_KEY ?? '', apiSecret: process.env.API_SECRET ?? '' },
  testnet: false,
  apiUrl: process.env.SIM_URL,
  enableRateLimit: false, // not our shared budget: ccxt's per-instance throttle, switched on below
});
client.enableRateLimit = true;
await client.loadMarkets();

const app = express();
app.post('/api/v1/webhook/tradingview', express.json({ limit: '16kb' }), async (req, res) => {
  const body = req.body as { symbol: string; action: string; quantity: number; alert_id: string };
  const side = body.action === 'long' || body.action === 'close_short' ? 'buy' : 'sell';
  try {
    const order = await client.createMarketOrder(
      `${body.symbol.replace('USDT', '')}/USDT:USDT`,
      side,
      body.quantity,
      undefined,
      {
        clientOrderId: body.alert_id,
      },
    );
    res.json({ success: true, id: order.id });
  } catch (err) {
    res.status(502).json({ success: false, error: String(err) });
  }
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
