/**
 * @module Replication lag per peer over the last few minutes, one line per
 * "source → peer", updated at every poll.
 */
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { formatMs, formatTime } from '../ui/format';
import type { LagPoint } from './useRegionPolling';

const COLOURS = ['#0969da', '#1a7f37', '#bf3989', '#9a6700', '#8250df', '#cf222e'];

export function LagChart({ history }: { history: LagPoint[] }) {
  const series = [...new Set(history.flatMap((p) => Object.keys(p).filter((k) => k !== 't')))].sort();
  if (series.length === 0) {
    return <p className="muted">No replication figures yet: the regions’ status shows no peers.</p>;
  }
  const latest = history.at(-1);
  return (
    <figure className="chart">
      <LineChart
        data={history}
        responsive
        style={{ width: '100%', height: 240 }}
        margin={{ top: 8, right: 12, bottom: 0, left: 0 }}
      >
        <CartesianGrid strokeDasharray="3 3" stroke="#d0d7de" />
        <XAxis
          dataKey="t"
          type="number"
          scale="time"
          domain={['dataMin', 'dataMax']}
          tickFormatter={(t: number) => formatTime(t)}
          minTickGap={40}
          fontSize={12}
        />
        <YAxis tickFormatter={(v: number) => formatMs(v)} width={64} fontSize={12} allowDecimals={false} />
        <Tooltip
          labelFormatter={(t) => formatTime(Number(t))}
          formatter={(v) => formatMs(typeof v === 'number' ? v : null)}
        />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        {series.map((key, i) => (
          <Line
            key={key}
            dataKey={key}
            name={key}
            stroke={COLOURS[i % COLOURS.length]}
            dot={false}
            isAnimationActive={false}
            connectNulls={false}
            strokeWidth={2}
          />
        ))}
      </LineChart>
      <figcaption className="small muted">
        Replication lag per peer, last 5 minutes.
        {latest && ` Now: ${series.map((k) => `${k} ${formatMs(latest[k] ?? null)}`).join('; ')}.`}
      </figcaption>
    </figure>
  );
}
