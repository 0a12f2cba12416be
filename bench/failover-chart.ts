/**
 * @module The failover timeline chart: for the median idle and the median loaded
 * failover, the plan's steps (fence, drain, switch) and every write response the
 * client saw, per region, on one time axis from the decision; the first write the
 * new region accepted is marked.
 */

import type { MoveTiming } from './failover.js';
import type { FailoverFigures } from './failover-phase.js';
import { document, esc, type Frame, scale, xAxis } from './svg.js';

const STEP_COLORS: Record<string, string> = { fence: '#e67e22', drain: '#8e44ad', switch: '#2980b9' };
const statusColor = (s: number) => (s === 201 ? '#27ae60' : s === 503 ? '#e67e22' : s === 421 ? '#8e44ad' : '#c0392b');
/** Responses drawn before the decision and after the first accepted write, in ms. */
const MARGIN_MS = 120;
const PANEL_HEIGHT = 190;

function panel(m: MoveTiming, top: number, title: string): string[] {
  const regions = [m.from, m.to];
  const end = Math.max(m.firstWriteMs, m.planMs);
  const shown = m.responses.filter((r) => r.atMs >= -MARGIN_MS && r.atMs <= end + MARGIN_MS);
  const lo = Math.min(-20, ...shown.map((r) => r.atMs)) - 5;
  const hi = Math.max(end, ...shown.map((r) => r.atMs)) + 10;
  const f: Frame = { x: 150, y: top + 44, w: 620, h: 92 };
  const sx = scale(lo, hi, f.x, f.x + f.w);
  const steps = m.steps.map((s) => `${s.step} ${(s.endMs - s.startMs).toFixed(0)} ms`).join(', ');
  const out = [
    `<text x="20" y="${top + 16}" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<text x="20" y="${top + 32}">${esc(`plan: ${steps} (done at ${m.planMs.toFixed(0)} ms); first write accepted by ${m.to} at ${m.firstWriteMs.toFixed(0)} ms`)}</text>`,
    xAxis(f, lo, hi, 'ms from the decision'),
  ];
  out.push(`<text x="${f.x - 8}" y="${f.y + 18}" text-anchor="end">plan (operator)</text>`);
  for (const s of m.steps) {
    const x = sx(s.startMs);
    const w = Math.max(2, sx(s.endMs) - x);
    out.push(
      `<rect x="${x.toFixed(1)}" y="${f.y + 6}" width="${w.toFixed(1)}" height="16" fill="${STEP_COLORS[s.step] ?? '#999'}"><title>${esc(`${s.step}: ${s.startMs.toFixed(1)}–${s.endMs.toFixed(1)} ms${s.detail ? ` (${s.detail})` : ''}`)}</title></rect>`,
    );
  }
  regions.forEach((region, i) => {
    const y = f.y + 44 + 28 * i;
    out.push(`<text x="${f.x - 8}" y="${y + 4}" text-anchor="end">writes → ${esc(region)}</text>`);
    out.push(`<line x1="${f.x}" y1="${y}" x2="${f.x + f.w}" y2="${y}" stroke="#ddd"/>`);
    for (const r of shown.filter((x) => x.region === region)) {
      const x = sx(r.atMs).toFixed(1);
      out.push(
        `<line x1="${x}" y1="${y - 8}" x2="${x}" y2="${y + 8}" stroke="${statusColor(r.status)}" stroke-width="1.5"><title>${r.status} at ${r.atMs.toFixed(1)} ms</title></line>`,
      );
    }
  });
  const fx = sx(m.firstWriteMs).toFixed(1);
  out.push(`<line x1="${fx}" y1="${f.y}" x2="${fx}" y2="${f.y + f.h}" stroke="#000" stroke-dasharray="4,2"/>`);
  const x0 = sx(0).toFixed(1);
  out.push(`<line x1="${x0}" y1="${f.y}" x2="${x0}" y2="${f.y + f.h}" stroke="#000"/>`);
  return out;
}

export function failoverChart(r: FailoverFigures): string {
  const items: Array<[string, string]> = [
    ['fence', STEP_COLORS.fence!],
    ['drain', STEP_COLORS.drain!],
    ['switch', STEP_COLORS.switch!],
    ['201 accepted', '#27ae60'],
    ['503 fenced', '#e67e22'],
    ['421 not the active region', '#8e44ad'],
    ['other / error', '#c0392b'],
  ];
  const y = 2 * PANEL_HEIGHT + 10;
  let x = 20;
  const legend = items.map(([label, color]) => {
    const item = `<rect x="${x}" y="${y}" width="10" height="10" fill="${color}"/><text x="${x + 14}" y="${y + 9}">${esc(label)}</text>`;
    x += 30 + label.length * 6;
    return item;
  });
  legend.push(
    `<text x="20" y="${y + 28}" fill="#555" font-size="10">${esc('Dashed line: the first write the new region accepted, as the client saw it. Each tick is one write response the client received.')}</text>`,
  );
  return document(800, y + 40, [
    ...panel(
      r.representative.idle,
      0,
      `Idle failover (the median of ${r.samples.idle}): one client retrying a write in a tight loop after the decision`,
    ),
    ...panel(
      r.representative.loaded,
      PANEL_HEIGHT,
      `Failover under ${r.loadRate} writes/s (the median of ${r.samples.loaded}), writes sent through the routing client`,
    ),
    ...legend,
  ]);
}
