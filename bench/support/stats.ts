// Small statistics for the benches: percentiles, medians and number formatting.

/** The p-th percentile (nearest rank, 0–100) of xs; NaN when empty. */
export function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Integer-or-decimal argument `--name V` of the command line, or the default. */
export function argNumber(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} wants a positive number, got ${process.argv[i + 1]}`);
  return v;
}

/** String argument `--name V` of the command line, or the default. */
export function argString(name: string): string | undefined;
export function argString(name: string, dflt: string): string;
export function argString(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} wants a value`);
  return v;
}

export const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
