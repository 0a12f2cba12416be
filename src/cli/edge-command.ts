/**
 * @module `mraa edge`: serves the web app and `/config.json` on its own, in the
 * foreground (production: on the edge host, or behind its proxy), at edge.listen (or
 * the host and port of edge.url), over HTTPS with edge.tls or the global tls. Inside
 * `mraa up` the same edge runs with the local controls; here it has none.
 */
import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../config/config.js';
import { listenAddress } from '../config/serving.js';
import { startEdge } from '../edge/edge.js';
import { LOG_REDACT } from '../http/log-redact.js';
import { stopWithSupervisor } from './region-command.js';
import { run } from './run.js';

export function registerEdgeCommand(program: Command): void {
  program
    .command('edge')
    .description('serve the web app and /config.json in the foreground (the edge host)')
    .action((_opts: unknown, cmd: Command) =>
      run(cmd, async (g) => {
        const config = loadConfig(g.config);
        const logger = pino({ base: { component: 'edge' }, redact: LOG_REDACT });
        const app = await startEdge({ config, logger });
        const at = listenAddress(config.edge.url, config.edge.listen);
        logger.info({ url: config.edge.url, listen: at }, 'edge listening');
        stopWithSupervisor(() => app.close());
      }),
    );
}
