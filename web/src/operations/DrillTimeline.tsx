/**
 * @module A drill's timeline as horizontal bars: each step starts where it started
 * and is as long as it lasted.
 */
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import type { DrillReport } from '../api';
import { formatMs } from '../ui/format';

export function DrillTimeline({ timeline }: { timeline: DrillReport['timeline'] }) {
  if (timeline.length === 0) return <p className="muted">No timeline recorded.</p>;
  const t0 = Math.min(...timeline.map((s) => Date.parse(s.startedAt)).filter(Number.isFinite));
  const rows = timeline.map((s, i) => ({
    key: `${i + 1}. ${s.step}`,
    offset: Number.isFinite(Date.parse(s.startedAt)) ? Date.parse(s.startedAt) - t0 : 0,
    duration: s.durationMs,
    detail: s.detail,
  }));
  return (
    <figure className="chart">
      <BarChart
        data={rows}
        layout="vertical"
        responsive
        style={{ width: '100%', height: 40 + rows.length * 32 }}
        margin={{ top: 4, right: 12, bottom: 4, left: 4 }}
      >
        <CartesianGrid strokeDasharray="3 3" horizontal={false} stroke="#d0d7de" />
        <XAxis type="number" tickFormatter={(v: number) => formatMs(v)} fontSize={12} />
        <YAxis type="category" dataKey="key" width={120} fontSize={12} />
        <Tooltip
          formatter={(v, name) =>
            name === 'offset' ? [formatMs(Number(v)), 'starts after'] : [formatMs(Number(v)), 'lasted']
          }
        />
        <Bar dataKey="offset" stackId="t" fill="transparent" isAnimationActive={false} />
        <Bar dataKey="duration" stackId="t" fill="#0969da" isAnimationActive={false} />
      </BarChart>
      <figcaption className="small muted">Drill timeline: when each step started and how long it took.</figcaption>
    </figure>
  );
}
