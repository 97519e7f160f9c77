import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP gateway (same as `npm start`)')
    .action(async () => {
      await import('../../main');
    });
}
