/** Small decimal helpers: the simulator keeps plain numbers and rounds at the edges. */

/** Number of decimals of a step like 0.001 → 3, 1 → 0, 0.5 → 1. */
export function decimalsOf(step: number): number {
  const s = step.toString();
  if (s.includes('e-')) return Number(s.split('e-')[1]);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** Decimals actually present in a numeric string ("0.0100" → 4, "1e-3" → 3). */
export function decimalsIn(value: string): number {
  const v = value.trim();
  if (/e-/i.test(v)) {
    const [mant = '', exp = '0'] = v.toLowerCase().split('e-');
    return decimalsIn(mant) + Number(exp);
  }
  const dot = v.indexOf('.');
  if (dot < 0) return 0;
  return v.slice(dot + 1).replace(/0+$/, '').length;
}

/** Round to a number of decimals, killing float noise. */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round((value + Number.EPSILON * Math.sign(value)) * f) / f;
}

/** Is value an integer multiple of step (tolerant to float noise)? */
export function isMultiple(value: number, step: number): boolean {
  const q = value / step;
  return Math.abs(q - Math.round(q)) < 1e-8;
}

/** Fixed-decimal string, never "-0". */
export function fmt(value: number, decimals: number): string {
  const s = round(value, decimals).toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** Shortest plain string of a number (no exponent, no float noise beyond 12 decimals). */
export function str(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const s = fmt(value, 12).replace(/\.?0+$/, '');
  return s === '' || s === '-' ? '0' : s;
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal from a uniform source (Box–Muller). */
export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** 32-bit FNV-1a hash of a string, for seeding. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Wall-clock time in ms with sub-millisecond precision. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
