/**
 * @module `node dist/bench/profile-summary.js FILE.cpuprofile [TOP]`: where a profiled
 * process spent its time: self time per function and per source (this repository's
 * files, each dependency, Node's internals), as shares of the samples.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function source(url: string): string {
  if (!url) return '(native / VM)';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return `dep: ${dep[1]}`;
  if (url.startsWith('node:'))
    return url.includes('undici')
      ? 'node: undici (fetch)'
      : url.replace(
          /^node:internal\/(crypto|webstreams|streams|http|deps|modules|process|url|event_target|abort_controller|perf)\/?.*$/,
          'node: internal/$1',
        );
  const own = /\/dist\/(src\/.*?)\.js$/.exec(url);
  return own ? own[1]! : url;
}

function summarise(file: string, top: number): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fnTime = new Map<string, number>();
  const srcTime = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const name = `${f.functionName || '(anonymous)'}  ${source(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fnTime.set(name, (fnTime.get(name) ?? 0) + us);
    srcTime.set(source(f.url), (srcTime.get(source(f.url)) ?? 0) + us);
  }
  // Inclusive time of this repository's functions: every sample counts for each distinct one on its stack.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (f: ProfileNode['callFrame']) =>
    `${f.functionName || '(anonymous)'}  ${source(f.url)}:${f.lineNumber + 1}`;
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const f = byId.get(n)!.callFrame;
      if (!/\/dist\/src\//.test(f.url)) continue;
      const name = label(f);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled over ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s`);
  console.log('\nself time by function:');
  for (const [name, us] of [...fnTime].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${name}`);
  console.log("\ninclusive time of this repository's functions:");
  for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(us)}  ${name}`);
  console.log('\nself time by source:');
  for (const [name, us] of [...srcTime].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${name}`);
}

const [file, top] = process.argv.slice(2);
if (!file) {
  console.error('usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP]');
  process.exit(2);
}
summarise(file, Number(top ?? 25));
