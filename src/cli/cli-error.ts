/** An error the CLI reports as one line on stderr with a chosen exit code (1 = failure, 2 = usage). */
export class CliError extends Error {
  constructor(
    message: string,
    public readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
