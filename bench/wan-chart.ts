/**
 * @module The `--wan` chart: for each one-way delay, mraa's and PostgreSQL's lag p50
 * and p99 as bars side by side, the one-way delay marked on each group; the
 * head-of-line figure below.
 */
import { document, esc, type Frame, scale, ticks, wrapped } from './svg.js';
import type { WanResults } from './wan-phases.js';

const COLORS = { mraaP50: '#6b9bd1', mraaP99: '#2c5d94', pgP50: '#f0b27a', pgP99: '#c0641f' };

export function wanChart(r: WanResults): string {
  const rows = r.lag ?? [];
  const bars = rows.map((row) => {
    const pg = 'skipped' in row.postgres ? undefined : row.postgres.lagMs;
    return {
      label: row.delayMs === 0 ? '0 ms (proxy only)' : `${row.delayMs} ms each way`,
      delayMs: row.delayMs,
      values: [
        ['mraa p50', row.mraa.lagMs.p50, COLORS.mraaP50],
        ['mraa p99', row.mraa.lagMs.p99, COLORS.mraaP99],
        ['PostgreSQL p50', pg?.p50 ?? Number.NaN, COLORS.pgP50],
        ['PostgreSQL p99', pg?.p99 ?? Number.NaN, COLORS.pgP99],
      ] as const,
    };
  });
  const f: Frame = { x: 70, y: 72, w: 660, h: 290 };
  const hi = Math.max(10, ...bars.flatMap((b) => b.values.map(([, v]) => (Number.isFinite(v) ? v : 0)))) * 1.1;
  const sy = scale(0, hi, f.y + f.h, f.y);
  const body: string[] = [
    `<text x="${f.x}" y="20" font-size="14" font-weight="bold">Replication lag over a long link: mraa and PostgreSQL 15 streaming replication</text>`,
    `<text x="${f.x}" y="37">${esc('client acknowledgement → visible in the other region; the same delay proxy, rate and duration for both, one run')}</text>`,
    `<line x1="${f.x}" y1="${f.y + f.h}" x2="${f.x + f.w}" y2="${f.y + f.h}" stroke="#333"/>`,
  ];
  for (const t of ticks(0, hi, 6)) {
    const y = sy(t).toFixed(1);
    body.push(`<line x1="${f.x}" y1="${y}" x2="${f.x + f.w}" y2="${y}" stroke="#eee"/>`);
    body.push(`<text x="${f.x - 6}" y="${Number(y) + 4}" text-anchor="end">${t}</text>`);
  }
  body.push(`<text x="${f.x - 6}" y="${f.y - 12}" text-anchor="end">lag (ms)</text>`);
  const groupW = f.w / Math.max(1, bars.length);
  const barW = Math.min(36, (groupW - 30) / 4);
  bars.forEach((b, g) => {
    const x0 = f.x + g * groupW + (groupW - 4 * barW) / 2;
    b.values.forEach(([, v, color], i) => {
      if (!Number.isFinite(v)) return;
      const x = x0 + i * barW;
      body.push(
        `<rect x="${x.toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(f.y + f.h - sy(v)).toFixed(1)}" fill="${color}"/>`,
      );
      body.push(
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(sy(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${v.toFixed(v >= 10 ? 0 : 1)}</text>`,
      );
    });
    if (b.delayMs > 0) {
      const y = sy(b.delayMs).toFixed(1);
      body.push(
        `<line x1="${(x0 - 4).toFixed(1)}" y1="${y}" x2="${(x0 + 4 * barW + 2).toFixed(1)}" y2="${y}" stroke="#27ae60" stroke-dasharray="4,2"/>`,
      );
    }
    body.push(
      `<text x="${(x0 + 2 * barW).toFixed(1)}" y="${f.y + f.h + 16}" text-anchor="middle">${esc(b.label)}</text>`,
    );
  });
  let lx = f.x;
  for (const [label, color] of [
    ['mraa p50', COLORS.mraaP50],
    ['mraa p99', COLORS.mraaP99],
    ['PostgreSQL p50', COLORS.pgP50],
    ['PostgreSQL p99', COLORS.pgP99],
    ['one-way delay', '#27ae60'],
  ] as const) {
    body.push(`<rect x="${lx}" y="${f.y + f.h + 30}" width="10" height="10" fill="${color}"/>`);
    body.push(`<text x="${lx + 14}" y="${f.y + f.h + 39}">${label}</text>`);
    lx += 130;
  }
  const h = r.headOfLine;
  if (h)
    body.push(
      wrapped(
        f.x,
        f.y + f.h + 66,
        `Head-of-line (${h.delayMs} ms each way, ${(h.bandwidthBytesPerSec / 2 ** 20).toFixed(0)} MiB/s cap): comment lag p99 ${h.withoutUpload.p99.toFixed(1)} ms without an upload, ${h.duringUpload.p99.toFixed(1)} ms while a ${(h.upload.bytes / 2 ** 20).toFixed(0)} MiB body replicated (${(h.upload.replicationMs / 1000).toFixed(1)} s): ${h.p99Ratio.toFixed(2)}× (target ≤ 2×).`,
        120,
        13,
      ),
    );
  return document(800, 480, body);
}
