/**
 * @module The long-link targets of DESIGN §8, checked against a `--wan` run: at a 75 ms
 * one-way delay mraa's lag p50 within 1.1× and p99 within 1.5× of PostgreSQL's through
 * the same kind of proxy in the same run; comment lag p99 while a 200 MiB body
 * replicates no worse than 2× the same figure without it.
 */
import type { TargetCheck } from './targets.js';
import type { WanResults } from './wan-phases.js';

const LONG_LINK_MS = 75;

const check = (value: number | undefined, ok: (v: number) => boolean) =>
  value === undefined || !Number.isFinite(value) ? null : ok(value);

export function checkWanTargets(r: WanResults): TargetCheck[] {
  const row = r.lag?.find((x) => x.delayMs === LONG_LINK_MS);
  const pg = row && !('skipped' in row.postgres) ? row.postgres : undefined;
  const samples = row
    ? 'skipped' in row.postgres
      ? 'PostgreSQL skipped (lag[].postgres.skipped)'
      : `${row.mraa.lagMs.n} + ${pg!.lagMs.n} writes`
    : '-';
  const hol = r.headOfLine;
  return [
    {
      figure: `lag p50 at ${LONG_LINK_MS} ms each way, mraa / PostgreSQL 15`,
      field: `lag[delayMs=${LONG_LINK_MS}].ratios.p50`,
      value: row?.ratios?.p50 ?? null,
      unit: '×',
      target: '≤ 1.1×',
      met: check(row?.ratios?.p50, (x) => x <= 1.1),
      samples,
    },
    {
      figure: `lag p99 at ${LONG_LINK_MS} ms each way, mraa / PostgreSQL 15`,
      field: `lag[delayMs=${LONG_LINK_MS}].ratios.p99`,
      value: row?.ratios?.p99 ?? null,
      unit: '×',
      target: '≤ 1.5×',
      met: check(row?.ratios?.p99, (x) => x <= 1.5),
      samples,
    },
    {
      figure: `comment lag p99 while a ${hol ? (hol.upload.bytes / 2 ** 20).toFixed(0) : 200} MiB body replicates / without`,
      field: 'headOfLine.p99Ratio',
      value: hol?.p99Ratio ?? null,
      unit: '×',
      target: '≤ 2×',
      met: check(hol?.p99Ratio, (x) => x <= 2),
      samples: hol ? `${hol.duringUpload.n} + ${hol.withoutUpload.n} comments` : '-',
    },
  ];
}
