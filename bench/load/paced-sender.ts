import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { webhookBody, type BodySpec } from './webhook-bodies.ts';

/**
 * Open-loop sender for the pipeline scenarios: request i leaves at start + i × intervalMs whatever the
 * answers before it (no coordinated omission), over keep-alive connections. Spec: JSON file argv[2];
 * writes one record per request to the JSON file argv[3].
 */
interface PacedSpec {
  url: string;
  count: number;
  /** Gap between two sends; 1000 / rate. */
  intervalMs: number;
  bodies: BodySpec;
  /** Start offset so the measuring process can note its own clock first. */
  startAtEpochMs?: number;
}

export interface SentRecord {
  i: number;
  alertId: string;
  accountId: string;
  /** Epoch ms when the request was written. */
  sentAt: number;
  /** Time to the full answer, ms (sub-millisecond resolution). */
  ackMs: number;
  status: number;
  error?: string;
}

const spec = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as PacedSpec;
const outFile = process.argv[3] as string;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const url = new URL(spec.url);

function send(i: number): Promise<SentRecord> {
  const body = webhookBody(spec.bodies, i);
  const payload = Buffer.from(JSON.stringify(body));
  const record: SentRecord = {
    i,
    alertId: String(body.alert_id),
    accountId: String(body.account_id),
    sentAt: Date.now(),
    ackMs: Number.NaN,
    status: 0,
  };
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          record.ackMs = Number(process.hrtime.bigint() - started) / 1e6;
          record.status = res.statusCode ?? 0;
          resolve(record);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => {
      record.error = err.message;
      record.ackMs = Number(process.hrtime.bigint() - started) / 1e6;
      resolve(record);
    });
    req.end(payload);
  });
}

const startAt = Math.max(Date.now(), spec.startAtEpochMs ?? 0);
const pending: Array<Promise<SentRecord>> = [];
for (let i = 0; i < spec.count; i++) {
  const due = startAt + i * spec.intervalMs;
  const wait = due - Date.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  pending.push(send(i));
}
const records = await Promise.all(pending);
agent.destroy();
writeFileSync(outFile, JSON.stringify(records));
