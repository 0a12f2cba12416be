/**
 * @module Terminal output for operators: aligned tables and short status words. Colour
 * only where it is read by a person: stdout and stderr are decided separately (a
 * terminal on one, a file on the other), `NO_COLOR` turns it off and `FORCE_COLOR`
 * on (`FORCE_COLOR=0` off), FORCE_COLOR first, as Node itself reads them.
 */

/** Whether to colour what is written to `stream`. */
export function colorEnabled(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined> = process.env,
): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR) return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export interface Palette {
  green: (text: string) => string;
  yellow: (text: string) => string;
  red: (text: string) => string;
  bold: (text: string) => string;
  dim: (text: string) => string;
}

export function palette(on: boolean): Palette {
  const paint = (code: number) => (text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { green: paint(32), yellow: paint(33), red: paint(31), bold: paint(1), dim: paint(2) };
}

/** For text written to stdout. */
export const { green, yellow, red, bold, dim } = palette(colorEnabled(process.stdout));
/** For text written to stderr. */
export const stderrColors: Palette = palette(colorEnabled(process.stderr));

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI, '').length;

/** A table with a header row, columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visible(c))))
      .join('  ')
      .trimEnd();
  return [bold(line(headers)), ...rows.map(line)].join('\n');
}

export function stateWord(state: string | undefined): string {
  if (state === 'active') return green(state);
  if (state === 'fenced') return yellow(state);
  if (state === 'failover') return yellow(state);
  return red(state ?? 'unknown');
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
