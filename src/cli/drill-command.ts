/**
 * @module `mraa drill`: a DR drill under write load; writes its report (Markdown and
 * JSON) to the data directory, where the web console lists it too.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { EventSource } from 'eventsource';
import sharp from 'sharp';
import { loadConfig } from '../config/config.js';
import { DRILLS_DIR } from '../edge/local-controls.js';
import { DrillError, runDrill } from '../orchestration/drill.js';
import { drillMarkdown } from '../orchestration/drill-report.js';
import { PlanError } from '../orchestration/plan.js';
import type { EventSourceConstructor } from '../routing/client/index.js';
import { Deployment } from './deployment.js';
import { bold, formatMs, green, red, table } from './format.js';
import { run } from './run.js';

export function registerDrillCommand(program: Command): void {
  program
    .command('drill')
    .description('a DR drill: failover and failback under write load; reports measured RPO and RTO')
    .option('--rate <writes>', 'client writes a second', '20')
    .option('--phase <seconds>', 'how long the load runs before, during and after the failover', '5')
    .option('--ungraceful', "kill the primary's process instead of a planned failover (local deployments only)")
    .option('--timeout <seconds>', 'how long a drain may take', '60')
    .action((opts: { rate: string; phase: string; ungraceful?: boolean; timeout: string }, cmd: Command) =>
      run(cmd, async (g) => {
        const config = loadConfig(g.config);
        const dep = new Deployment(config);
        const rate = Number(opts.rate);
        if (!(rate > 0 && rate <= 2000)) throw new DrillError('--rate is 1 to 2000 writes a second');
        console.log(
          bold(
            `DR drill: ${opts.ungraceful ? 'ungraceful (the primary is killed)' : 'planned'} failover and failback under ${rate} writes/s`,
          ),
        );
        let report: Awaited<ReturnType<typeof runDrill>>;
        try {
          report = await runDrill(
            {
              appId: config.appId,
              regions: config.regions,
              token: await dep.operatorToken(),
              EventSource: EventSource as unknown as EventSourceConstructor,
              edgeUrl: config.edge.url,
              image: () =>
                sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 30, g: 120, b: 200 } } })
                  .png()
                  .toBuffer(),
              log: (line) => console.log(`  ${line}`),
            },
            {
              rate,
              phaseMs: Number(opts.phase) * 1000,
              ungraceful: opts.ungraceful ?? false,
              drainTimeoutMs: Number(opts.timeout) * 1000,
            },
          );
        } catch (err) {
          if (err instanceof DrillError || err instanceof PlanError) {
            console.error(red(`The drill could not run: ${err.message}`));
            process.exitCode = 1;
            return;
          }
          throw err;
        }
        const dir = join(config.dataRoot, DRILLS_DIR);
        await mkdir(dir, { recursive: true });
        const json = join(dir, `${report.id}.json`);
        const md = join(dir, `${report.id}.md`);
        await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
        await writeFile(md, drillMarkdown(report));
        console.log('');
        console.log(
          table(
            ['MEASURE', 'VALUE'],
            [
              ['RPO (acknowledged writes lost)', report.rpo === 0 ? green('0') : red(String(report.rpo))],
              [`RTO (decision → first write in ${report.regions.to})`, formatMs(report.rtoMs)],
              [
                `failback (→ first write in ${report.regions.from})`,
                report.failbackRtoMs === null ? '-' : formatMs(report.failbackRtoMs),
              ],
              ['writes attempted / acknowledged', `${report.writes.attempted} / ${report.writes.acknowledged}`],
              ['errors clients saw', report.errors.map((e) => `${e.code} ×${e.count}`).join(', ') || 'none'],
            ],
          ),
        );
        console.log(`\n${report.ok ? green('Drill passed.') : red(`Drill failed: ${report.problems.join('; ')}.`)}`);
        console.log(`Report: ${relative(process.cwd(), md)} (and .json)`);
        if (!report.ok) process.exitCode = 1;
      }),
    );
}
