import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error';

/**
 * `baygate` entry point. Each file in ./commands exports `register(program)`, so a new command is a new
 * file and this one never changes.
 */
export interface CommandModule {
  register(program: Command): void;
}

const program = new Command('baygate')
  .description('Baygate — cross-border e-commerce customs clearance gateway')
  .showHelpAfterError()
  .exitOverride();

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
for (const file of readdirSync(commandsDir).sort()) {
  if (!/\.ts$/.test(file) || file.endsWith('.d.ts')) continue;
  const mod = (await import(pathToFileURL(join(commandsDir, file)).href)) as Partial<CommandModule>;
  if (typeof mod.register === 'function') mod.register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof CliError) {
    process.stderr.write(`baygate: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`baygate: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
