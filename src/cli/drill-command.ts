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
import { EXIT } from './exit-codes.js';
import { bold, formatMs, green, red, stderrColors, table } from './format.js';
import { integer, secondsOption } from './options.js';
import { errorDocument, type Outcome, run } from './run.js';

export function registerDrillCommand(program: Command): void {
  program
    .command('drill')
    .description('a DR drill: failover and failback under write load; reports measured RPO and RTO')
    .option(
      '--rate <writes>',
      'client writes a second, 1 to 2000',
      integer(1, 2000, 'a whole number of writes a second'),
      20,
    )
    .addOption(
      secondsOption(
        '--phase <seconds>',
        'how long the load runs before, during and after the failover, more than 0 and at most 3600',
        3600,
        5,
      ),
    )
    .option('--ungraceful', "kill the primary's process instead of a planned failover (local deployments only)")
    .addOption(
      secondsOption('--timeout <seconds>', 'how long a drain may take, more than 0 and at most 86400', 86_400, 60),
    )
    .action((opts: { rate: number; phase: number; ungraceful?: boolean; timeout: number }, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const config = loadConfig(g.config);
          const dep = new Deployment(config);
          out.line(
            bold(
              `DR drill: ${opts.ungraceful ? 'ungraceful (the primary is killed)' : 'planned'} failover and failback under ${opts.rate} writes/s`,
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
                log: (line) => out.line(`  ${line}`),
              },
              {
                rate: opts.rate,
                phaseMs: opts.phase,
                ungraceful: opts.ungraceful ?? false,
                drainTimeoutMs: opts.timeout,
              },
            );
          } catch (err) {
            if (err instanceof DrillError || err instanceof PlanError) {
              out.note(stderrColors.red(`The drill could not run: ${err.message}`));
              const code = err instanceof PlanError ? err.code : 'drill_not_run';
              return { exit: EXIT.failed, json: errorDocument(code, `The drill could not run: ${err.message}`) };
            }
            throw err;
          }
          const dir = join(config.dataRoot, DRILLS_DIR);
          await mkdir(dir, { recursive: true });
          const json = join(dir, `${report.id}.json`);
          const md = join(dir, `${report.id}.md`);
          await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
          await writeFile(md, drillMarkdown(report));
          out.line('');
          out.line(
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
          out.line(`\n${report.ok ? green('Drill passed.') : red(`Drill failed: ${report.problems.join('; ')}.`)}`);
          out.line(`Report: ${relative(process.cwd(), md)} (and .json)`);
          const files = { markdown: md, json };
          if (report.ok) return { exit: EXIT.done, json: { report, files } };
          return {
            exit: EXIT.failed,
            json: errorDocument('drill_failed', `Drill failed: ${report.problems.join('; ')}.`, {}, { report, files }),
          };
        },
        { json: true },
      ),
    );
}
