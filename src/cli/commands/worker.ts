import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'run a dispatch worker: claims, signs and publishes declarations, ingests receipts (run any number of copies)',
    )
    .action(async () => {
      const { runProcess } = await import('../../runtime/process');
      await runProcess('worker', async (config, logger) => {
        const { startWorker } = await import('../../runtime/worker');
        const worker = await startWorker(config, logger);
        return worker.stopSteps;
      });
    });
}
