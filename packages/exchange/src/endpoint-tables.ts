/**
 * ccxt builds its implicit API (`fapiPrivateGetPositionRisk`, `private_get_account_config`, …) in every
 * constructor: for each of the venue's ~1000+ endpoints it splits, capitalises and joins the path into two
 * method names. The names depend only on the class, so a class wrapped here computes them once (with ccxt's
 * own `defineRestApiEndpoint`, recorded on a stand-in) and every later instance only binds its closures.
 * The instance ends up with the same own methods, calling the same `request(path, api, method, params, …)`.
 */
import type * as ccxt from 'ccxt';

type Fn = (...args: unknown[]) => unknown;
type Ctor = new (config?: object) => ccxt.Exchange;
interface Row {
  names: string[];
  path: string;
  api: unknown;
  method: string;
  config: unknown;
}

const wrapped = new WeakMap<Ctor, Ctor>();

export function withSharedEndpointTables<C extends Ctor>(Base: C): C {
  const known = wrapped.get(Base);
  if (known) return known as C;
  const tables = new Map<string, Row[]>();
  let recording: Row[] | undefined;
  const defineEndpoint = (Base.prototype as { defineRestApiEndpoint: Fn }).defineRestApiEndpoint;
  class Shared extends (Base as Ctor) {
    override defineRestApi(api: unknown, methodName: string, paths: string[] = []): void {
      if (paths.length > 0 || recording) {
        super.defineRestApi(api, methodName, paths);
        return;
      }
      const rows = tables.get(methodName);
      if (!rows) {
        recording = [];
        try {
          super.defineRestApi(api, methodName, paths);
          tables.set(methodName, recording);
        } finally {
          recording = undefined;
        }
        return;
      }
      const self = this as unknown as Record<string, unknown>;
      for (const r of rows) {
        const partial = async (params = {}, context = {}) =>
          (self[methodName] as Fn).call(
            this,
            r.path,
            r.api,
            r.method,
            params,
            undefined,
            undefined,
            r.config,
            context,
          );
        for (const name of r.names) self[name] = partial;
      }
    }

    override defineRestApiEndpoint(
      methodName: string,
      uppercaseMethod: string,
      lowercaseMethod: string,
      camelcaseMethod: string,
      path: string,
      paths: string[],
      config = {},
    ): void {
      super.defineRestApiEndpoint(
        methodName,
        uppercaseMethod,
        lowercaseMethod,
        camelcaseMethod,
        path,
        paths,
        config,
      );
      if (!recording) return;
      const names: string[] = [];
      const standIn = new Proxy({ capitalize: this.capitalize.bind(this) } as Record<string, unknown>, {
        set: (target, key, value) => {
          if (typeof key === 'string') names.push(key);
          target[key as string] = value;
          return true;
        },
      });
      defineEndpoint.call(
        standIn,
        methodName,
        uppercaseMethod,
        lowercaseMethod,
        camelcaseMethod,
        path,
        paths,
        config,
      );
      recording.push({
        names,
        path,
        api: paths.length > 1 ? paths : paths[0],
        method: uppercaseMethod,
        config,
      });
    }
  }
  wrapped.set(Base, Shared);
  return Shared as unknown as C;
}
