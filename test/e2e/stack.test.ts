import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { requireMongo, requireRabbitMQ } from '../support/services';

/**
 * The README's first command, as a newcomer runs it (minus the service start-up, which `npm test` did):
 * the whole system as separate processes, the example orders submitted over HTTP, every declaration
 * followed to its final status.
 */
describe('npm run stack (gateway, workers and center simulators as processes)', function () {
  this.timeout(240000);
  before(async () => {
    await requireMongo();
    await requireRabbitMQ();
  });

  it('submits every example order and sees every declaration reach a final status, on the gateway port PORT names', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(
      process.execPath,
      ['bin/baygate.js', 'stack', '--exit', '--profile', 'fast', '--timeout', '150'],
      {
        env: {
          ...process.env,
          // The stack honours the configuration of the processes it starts: no --port, the gateway's PORT.
          PORT: String(port),
          MONGO_URL: process.env.MONGO_URL
            ? process.env.MONGO_URL.replace(/\/[^/?]*(\?|$)/, '/baygate_test_stack$1')
            : 'mongodb://127.0.0.1:27017/baygate_test_stack',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    // While it runs, the gateway answers on that port.
    let answered = false;
    let done = false;
    void exited.then(() => (done = true));
    while (!answered && !done) {
      answered = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!answered) await new Promise((r) => setTimeout(r, 200));
    }
    const code = await exited;
    expect(code, output).to.equal(0);
    expect(answered, `the gateway never answered on PORT ${port}`).to.equal(true);
    const summary = /(\d+) orders accepted, (\d+) rejected; (\d+)\/(\d+) declarations final\./.exec(output);
    expect(summary, output).to.not.equal(null);
    const [, accepted, rejected, final, total] = summary!.map(Number);
    expect(accepted).to.equal(7);
    expect(rejected).to.equal(0);
    expect(final).to.equal(total);
    expect(total).to.equal(27);
  });
});
