import express from 'express';

/**
 * The ceiling for the ingress: a bare Express 5 app on the same route that parses the same body the same way
 * (JSON and text, small limit) and answers 200 — no validation, auth, database or queue.
 * Started as its own process by bench/scenarios/ingress.ts; prints "listening <port>".
 */
const app = express();
app.disable('x-powered-by');
app.post(
  '/api/v1/webhook/tradingview',
  express.json({ limit: '16kb' }),
  express.text({ limit: '16kb', type: 'text/*' }),
  (_req, res) => {
    res.status(200).json({ success: true, message: 'ok' });
  },
);
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
