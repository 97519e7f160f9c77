import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('stack')
    .description(
      'run the whole system (gateway, workers, center simulators), submit the example orders and follow them to their final status',
    )
    .option('--port <port>', 'gateway port (default: $PORT, else 8080)', process.env.PORT || '8080')
    .option('--workers <n>', 'dispatch worker processes', '2')
    .option('--centers <codes>', 'clearance centers to simulate (comma separated)', 'GD,GD2,HK,MO')
    .option('--profile <name>', 'simulator profile (config/simulator-profiles.json)', 'demo')
    .option('--orders <dir>', 'orders to submit', 'examples/orders')
    .option('--timeout <seconds>', 'how long to wait for final statuses', '180')
    .option('--exit', 'stop everything once every declaration is final (CI, tests)')
    .action(
      async (opts: {
        port: string;
        workers: string;
        centers: string;
        profile: string;
        orders: string;
        timeout: string;
        exit?: boolean;
      }) => {
        const { runStack } = await import('../../runtime/stack');
        const { createLogger } = await import('../../log');
        const { ok } = await runStack({
          port: Number(opts.port),
          workers: Number(opts.workers),
          centers: opts.centers
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean),
          profile: opts.profile,
          ordersDir: opts.orders,
          timeoutMs: Number(opts.timeout) * 1000,
          exitWhenDone: opts.exit === true,
          logger: createLogger({ name: 'stack', level: 'info' }),
        });
        process.exitCode = ok ? 0 : 1;
      },
    );
}
