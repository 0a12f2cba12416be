/**
 * @module The replication lag chart: a histogram of the lag samples with their
 * cumulative distribution, p50/p99 and the DESIGN §8 targets marked.
 */
import type { LagResult } from './lag-phase.js';
import { document, esc, type Frame, scale, wrapped, xAxis } from './svg.js';

const BINS = 80;

export function lagChart(r: LagResult): string {
  const sorted = [...r.values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const lo = Math.min(0, Math.floor(at(0.001)));
  // Up to a little beyond p99 (and the 10 ms target): the tail beyond is counted, not drawn.
  const hi = Math.max(r.lagMs.p99 * 1.3, 12);
  const width = (hi - lo) / BINS;
  const counts = new Array<number>(BINS).fill(0);
  let over = 0;
  let under = 0;
  for (const v of sorted) {
    if (v >= hi) over++;
    else if (v < lo) under++;
    else counts[Math.floor((v - lo) / width)]!++;
  }
  const f: Frame = { x: 60, y: 74, w: 680, h: 280 };
  const sx = scale(lo, hi, f.x, f.x + f.w);
  const maxCount = Math.max(...counts, 1);
  const sy = scale(0, maxCount, f.y + f.h, f.y);
  const sc = scale(0, 1, f.y + f.h, f.y);
  const body: string[] = [
    `<text x="${f.x}" y="20" font-size="14" font-weight="bold">Replication lag at ${r.writesPerSec.toFixed(0)} writes/s: primary's 201 → visible in the secondary</text>`,
    `<text x="${f.x}" y="37">${esc(`n = ${r.lagMs.n} writes; p50 ${r.lagMs.p50.toFixed(2)} ms, p99 ${r.lagMs.p99.toFixed(2)} ms, max ${r.lagMs.max.toFixed(1)} ms${over ? `; ${over} beyond ${hi.toFixed(1)} ms` : ''}${under ? `; ${under} below ${lo} ms` : ''}${over || under ? ' not drawn' : ''}`)}</text>`,
    xAxis(f, lo, hi, 'lag (ms)'),
  ];
  counts.forEach((c, i) => {
    if (c === 0) return;
    const x = sx(lo + i * width);
    body.push(
      `<rect x="${x.toFixed(1)}" y="${sy(c).toFixed(1)}" width="${Math.max(1, sx(lo + width) - sx(lo) - 1).toFixed(1)}" height="${(f.y + f.h - sy(c)).toFixed(1)}" fill="#6b9bd1"/>`,
    );
  });
  const step = Math.max(1, Math.floor(sorted.length / 400));
  const points: string[] = [];
  for (let i = 0; i < sorted.length; i += step)
    if (sorted[i]! >= lo && sorted[i]! < hi)
      points.push(`${sx(sorted[i]!).toFixed(1)},${sc((i + 1) / sorted.length).toFixed(1)}`);
  body.push(`<polyline points="${points.join(' ')}" fill="none" stroke="#c0392b" stroke-width="1.5"/>`);
  for (const [p, label] of [
    [0, '0%'],
    [0.5, '50%'],
    [1, '100%'],
  ] as const) {
    body.push(`<text x="${f.x + f.w + 6}" y="${(sc(p) + 4).toFixed(1)}" fill="#c0392b">${label}</text>`);
  }
  body.push(`<text x="${f.x - 8}" y="${f.y - 6}" text-anchor="end" fill="#6b9bd1">writes</text>`);
  body.push(`<text x="${f.x - 8}" y="${f.y + 10}" text-anchor="end" fill="#6b9bd1">${maxCount}</text>`);
  // Measured percentiles labelled above the plot, targets inside it near the bottom.
  const marker = (v: number, label: string, color: string, dash: string, labelY: number) => {
    const x = sx(v).toFixed(1);
    body.push(
      `<line x1="${x}" y1="${Math.min(f.y, labelY + 3)}" x2="${x}" y2="${f.y + f.h}" stroke="${color}" stroke-dasharray="${dash}"/>`,
    );
    body.push(`<text x="${Number(x) + 3}" y="${labelY}" fill="${color}">${esc(label)}</text>`);
  };
  marker(r.lagMs.p50, `p50 ${r.lagMs.p50.toFixed(1)} ms`, '#2c3e50', '2,2', f.y + 12);
  marker(r.lagMs.p99, `p99 ${r.lagMs.p99.toFixed(1)} ms`, '#2c3e50', '2,2', f.y + 12);
  marker(2, 'target: p50 < 2 ms', '#27ae60', '6,3', f.y - 20);
  marker(10, 'target: p99 < 10 ms', '#27ae60', '6,3', f.y - 6);
  body.push(wrapped(f.x, f.y + f.h + 56, `Method: ${r.method}.`, 125, 13, 'fill="#555" font-size="10"'));
  return document(800, 500, body);
}
