// Ports a local start needs, checked before anything starts: otherwise a busy port surfaces late and
// confusingly (the health wait gets a 200 from whatever already answers there, then every call fails 401).
import { createServer } from 'node:net';

export interface NeededPort {
  /** What needs it, and which setting moves it, e.g. "ingress (PORT)". */
  purpose: string;
  host: string;
  port: number;
}

export class PortBusyError extends Error {
  override readonly name = 'PortBusyError';
}

function probe({ host, port }: NeededPort): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** Throws one PortBusyError naming every needed port that is taken (port 0 = "any", never checked). */
export async function assertPortsFree(ports: readonly NeededPort[]): Promise<void> {
  const busy: string[] = [];
  for (const needed of ports) {
    if (needed.port === 0) continue;
    const err = await probe(needed);
    if (!err) continue;
    busy.push(
      err.code === 'EADDRINUSE'
        ? `port ${needed.port} on ${needed.host} is already in use — needed by ${needed.purpose}`
        : `cannot listen on ${needed.host}:${needed.port} for ${needed.purpose} (${err.code ?? err.message})`,
    );
  }
  if (busy.length)
    throw new PortBusyError(
      `${busy.join('; ')}. Stop what uses it (e.g. \`ss -ltnp | grep :PORT\`) or choose another port.`,
    );
}
