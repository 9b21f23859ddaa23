import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { webhookBody, type BodySpec } from './webhook-bodies.ts';

/**
 * autocannon in its own process (so the load generator does not share an event loop with the measuring
 * script), with a distinct webhook body per request. Spec: JSON file given as argv[2]; prints autocannon's
 * result as one JSON line prefixed with "RESULT ".
 */
interface CannonSpec {
  url: string;
  connections: number;
  durationSec?: number;
  amount?: number;
  overallRate?: number;
  /** Absent: the same fixed body for every request (the bare Express baseline). */
  bodies?: BodySpec;
  fixedBody?: string;
}

const spec = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as CannonSpec;
let counter = 0;
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.durationSec ?? 5 }),
  ...(spec.overallRate !== undefined ? { overallRate: spec.overallRate } : {}),
  timeout: 10,
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => {
        const body = spec.bodies
          ? JSON.stringify(webhookBody(spec.bodies, counter++))
          : (spec.fixedBody ?? '{}');
        return { ...request, body };
      },
    },
  ],
});
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
