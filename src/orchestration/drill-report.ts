/**
 * @module The report of a DR drill: measured RPO (acknowledged writes lost), RTO
 * (decision to the first write accepted in the new region), the errors clients saw,
 * and the timeline; as JSON and as Markdown for people.
 */
export interface DrillTimelineStep {
  step: string;
  startedAt: string;
  durationMs: number;
  detail?: string;
}

export interface DrillReport {
  id: string;
  kind: 'graceful' | 'ungraceful';
  startedAt: string;
  ok: boolean;
  /** Acknowledged writes missing after convergence. */
  rpo: number;
  /** Decision to fail over → first write acknowledged by the new writer. */
  rtoMs: number;
  /** The same for the failback. */
  failbackRtoMs: number | null;
  rate: number;
  regions: { from: string; to: string };
  writes: {
    attempted: number;
    acknowledged: number;
    lost: number;
    duplicated: number;
    missingPerRegion: Record<string, number>;
  };
  errors: Array<{ code: string; count: number }>;
  timeline: DrillTimelineStep[];
  /** Why `ok` is false, in plain words. */
  problems: string[];
}

export function drillMarkdown(r: DrillReport): string {
  const ms = (n: number | null) => (n === null ? '-' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`);
  const lines = [
    `# DR drill ${r.id}`,
    '',
    `${r.ok ? '**Passed**' : '**Failed**'}: ${r.kind === 'graceful' ? 'a planned' : 'an ungraceful'} failover from ${r.regions.from} to ${r.regions.to} and back, under ${r.rate} writes/s, started ${r.startedAt}.`,
    '',
    '| measure | value |',
    '|---|---|',
    `| RPO: acknowledged writes lost | ${r.rpo} |`,
    `| RTO: decision → first write accepted in ${r.regions.to} | ${ms(r.rtoMs)} |`,
    `| failback: decision → first write accepted in ${r.regions.from} | ${ms(r.failbackRtoMs)} |`,
    `| writes attempted / acknowledged | ${r.writes.attempted} / ${r.writes.acknowledged} |`,
    `| acknowledged writes duplicated | ${r.writes.duplicated} |`,
    ...Object.entries(r.writes.missingPerRegion).map(
      ([region, n]) => `| acknowledged writes missing in ${region} | ${n} |`,
    ),
    '',
    '## Errors clients saw',
    '',
    ...(r.errors.length === 0
      ? ['None.']
      : ['| error | count |', '|---|---|', ...r.errors.map((e) => `| ${e.code} | ${e.count} |`)]),
    '',
    'Refused writes (`fenced`, `not_active_region`) were never acknowledged: clients were told to retry, nothing was lost.',
    '',
    '## Timeline',
    '',
    '| step | started | duration | detail |',
    '|---|---|---|---|',
    ...r.timeline.map(
      (s) =>
        `| ${s.step} | ${s.startedAt.slice(11, 23)} | ${ms(s.durationMs)} | ${(s.detail ?? '').replace(/\|/g, '\\|')} |`,
    ),
    '',
  ];
  if (r.problems.length) lines.push('## Problems', '', ...r.problems.map((p) => `- ${p}`), '');
  return lines.join('\n');
}
