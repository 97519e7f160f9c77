import { expect } from 'chai';
import { ConfigError, configSchema, loadConfig } from '../../src/config';

describe('configuration from the environment', () => {
  it('uses loopback defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.MONGO_URL).to.equal('mongodb://127.0.0.1:27017/baygate');
    expect(config.AMQP_URL).to.equal('amqp://guest:guest@127.0.0.1:5672');
    expect(config.PORT).to.equal(8080);
    expect(config.HOST).to.equal('127.0.0.1');
  });

  it('reads and coerces the variables that are set', () => {
    const config = loadConfig({ PORT: '9000', MONGO_URL: 'mongodb://db.example:27017/x', LOG_PRETTY: 'true' });
    expect(config.PORT).to.equal(9000);
    expect(config.MONGO_URL).to.equal('mongodb://db.example:27017/x');
    expect(config.LOG_PRETTY).to.equal(true);
  });

  it('names the bad variable and the reason', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).to.throw(ConfigError, /PORT/);
    try {
      loadConfig({ MONGO_URL: 'postgres://x', AMQP_URL: 'http://broker', PORT: '70000' });
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const variables = (err as ConfigError).problems.map((p) => p.variable).sort();
      expect(variables).to.deep.equal(['AMQP_URL', 'MONGO_URL', 'PORT']);
      expect((err as ConfigError).message).to.match(/MONGO_URL: must be a mongodb:\/\//);
    }
  });

  it('rejects a personal-data key that is not 32 bytes', () => {
    expect(() => loadConfig({ PII_KEYS: 'k1:c2hvcnQ=' })).to.throw(ConfigError, /PII_KEYS: every key must be 32 bytes/);
  });

  it('stops the process with the message and exit code 78 when started with a bad variable', async () => {
    const { spawnSync } = await import('node:child_process');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 15000,
    });
    expect(result.status).to.equal(78);
    expect(result.stderr).to.match(/Invalid configuration:\n\s+PORT:/);
  });
});

describe('configuration defaults', () => {
  it('are themselves valid (the development PII keys are 32 bytes)', () => {
    const defaults = loadConfig({});
    expect(
      configSchema.safeParse(Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, String(v)]))).success,
    ).to.equal(true);
    expect(Buffer.from(defaults.PII_KEYS.split(':')[1]!, 'base64')).to.have.length(32);
    expect(Buffer.from(defaults.PII_HASH_KEY, 'base64')).to.have.length(32);
  });
});
