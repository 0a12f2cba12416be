/**
 * @module Hand-written SVG: escaping, "nice" axis ticks, and an axis with labels.
 */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering lo..hi. */
export function ticks(lo: number, hi: number, count = 8): number[] {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(Number(t.toFixed(10)));
  return out;
}

export interface Frame {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A linear scale from [d0, d1] to [r0, r1]. */
export function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  return (v) => r0 + ((v - d0) / (d1 - d0 || 1)) * (r1 - r0);
}

export function xAxis(f: Frame, lo: number, hi: number, label: string): string {
  const sx = scale(lo, hi, f.x, f.x + f.w);
  const parts = [`<line x1="${f.x}" y1="${f.y + f.h}" x2="${f.x + f.w}" y2="${f.y + f.h}" stroke="#333"/>`];
  for (const t of ticks(lo, hi)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${f.y + f.h}" x2="${x}" y2="${f.y + f.h + 4}" stroke="#333"/>`);
    parts.push(`<line x1="${x}" y1="${f.y}" x2="${x}" y2="${f.y + f.h}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${f.y + f.h + 16}" text-anchor="middle">${esc(String(t))}</text>`);
  }
  parts.push(`<text x="${f.x + f.w / 2}" y="${f.y + f.h + 34}" text-anchor="middle">${esc(label)}</text>`);
  return parts.join('\n');
}

export function document(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** `text` wrapped at about `maxChars` characters a line, as <text> elements from (x, y). */
export function wrapped(x: number, y: number, text: string, maxChars = 130, lineHeight = 13, attrs = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > maxChars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l, i) => `<text x="${x}" y="${y + i * lineHeight}" ${attrs}>${esc(l)}</text>`).join('\n');
}
