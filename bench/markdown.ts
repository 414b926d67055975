import type { UpstreamExtension } from './gateway.js';

/** Markdown tables and the number formats of the report. */

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** `extensions.upstream` as `calls/cacheHits`, with the estimate when the gateway sends one. */
export function upstream(u: UpstreamExtension | undefined): string {
  if (!u) return 'absent';
  const expected = u.estimate?.expected === undefined ? '' : `, ~${u.estimate.expected}`;
  const estimate = u.estimate ? ` est. ${u.estimate.min}–${u.estimate.max}${expected}` : '';
  return `${u.calls}/${u.cacheHits}${estimate}`;
}

export function apiCounts(byApi: Readonly<Record<string, number | undefined>>): string {
  return (
    Object.entries(byApi)
      .map(([api, n]) => `${api} ${n}`)
      .join(', ') || '—'
  );
}

export const met = (ok: boolean) => (ok ? 'yes' : '**no**');
export const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
export const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
