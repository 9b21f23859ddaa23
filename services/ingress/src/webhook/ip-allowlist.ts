import { BlockList, isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { sendError } from '../http-errors.ts';

/** Plain IPv4 form of an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`). */
export function plainIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** Source-IP allow-list (addresses or CIDR subnets); empty list = everyone. Uses req.ip, so set TRUST_PROXY. */
export function ipAllowList(entries: readonly string[]): RequestHandler {
  if (entries.length === 0) return (_req, _res, next) => next();
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const family = isIP(address ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (!address || isIP(address) === 0)
      throw new Error(`IP_ALLOWLIST: "${entry}" is not an IP address or subnet`);
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return (req, res, next) => {
    const ip = plainIp(req.ip);
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (ip && isIP(ip) !== 0 && list.check(ip, family)) return next();
    sendError(res, 'forbidden', 'source address is not allowed');
  };
}
