import { expect } from 'chai';
import { checkWebhookTarget, isPublicAddress, parseAllowedTargets } from '../../src/pipeline/webhook-targets';

describe('webhook targets: public unicast addresses only (SSRF)', () => {
  it('refuses every non-public IPv4 and IPv6 range, however it is written', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.255.254',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '100.127.255.254',
      '0.0.0.0',
      '0.1.2.3',
      '198.18.0.1',
      '198.19.255.254',
      '192.0.2.1',
      '203.0.113.7',
      '224.0.0.1',
      '239.255.255.250',
      '255.255.255.255',
      '240.0.0.1',
      '::',
      '::1',
      '::127.0.0.1',
      '::7f00:1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::7f00:1',
      '64:ff9b::a9fe:a9fe',
      '64:ff9b:1::1',
      'fe80::1',
      'fe90::1',
      'febf::1',
      'fc00::1',
      'fd12:3456::1',
      'fec0::1',
      'ff02::1',
      '2002:7f00:1::1',
      '2001::1',
      '2001:db8::1',
      '100::1',
      'not-an-address',
    ])
      expect(isPublicAddress(address), address).to.equal(false);
    for (const address of ['8.8.8.8', '1.1.1.1', '121.40.1.1', '2400:3200::1', '2606:4700:4700::1111'])
      expect(isPublicAddress(address), address).to.equal(true);
  });

  it('checks the URL: https only, no credentials, and every address of the name public', async () => {
    const dns: Record<string, string[]> = {
      'public.example': ['121.40.1.1'],
      'mixed.example': ['121.40.1.2', '127.0.0.1'],
      'internal.example': ['10.1.2.3'],
      'metadata.example': ['169.254.169.254'],
      'v6.example': ['2400:3200::1'],
    };
    const policy = {
      allowed: [],
      lookup: async (host: string) => {
        const found = dns[host];
        if (!found) throw new Error('ENOTFOUND');
        return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
      },
    };
    const ok: string[] = [];
    for (const url of [
      'http://public.example/x',
      'https://user:pw@public.example/x',
      'https://localhost/x',
      'https://127.0.0.1/x',
      'https://0x7f000001/x',
      'https://2130706433/x',
      'https://[::1]/x',
      'https://[::127.0.0.1]/x',
      'https://[64:ff9b::7f00:1]/x',
      'https://[fe90::1]/x',
      'https://198.18.0.1/x',
      'https://224.0.0.1/x',
      'https://255.255.255.255/x',
      'https://internal.example/x',
      'https://metadata.example/latest',
      'https://mixed.example/x',
      'https://nowhere.example/x',
      'https://public.example/hook',
      'https://v6.example/hook',
      'https://121.40.1.9/hook',
    ]) {
      const verdict = await checkWebhookTarget(new URL(url), policy);
      if (verdict.ok) ok.push(url);
    }
    expect(ok).to.deep.equal(['https://public.example/hook', 'https://v6.example/hook', 'https://121.40.1.9/hook']);
    const pinned = await checkWebhookTarget(new URL('https://public.example/hook'), policy);
    expect(pinned.ok && pinned.target).to.deep.include({ address: '121.40.1.1', family: 4 });
  });

  it('the development allow-list names hosts (any port) or host:port, and lets them be plain http', async () => {
    const policy = {
      allowed: parseAllowedTargets('127.0.0.1:9090, Hooks.Test,[::1]:8443'),
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    };
    expect(policy.allowed).to.deep.equal(['127.0.0.1:9090', 'hooks.test', '::1:8443']);
    const verdict = async (url: string) => (await checkWebhookTarget(new URL(url), policy)).ok;
    expect(await verdict('http://127.0.0.1:9090/x')).to.equal(true);
    expect(await verdict('http://127.0.0.1:9091/x')).to.equal(false);
    expect(await verdict('http://hooks.test:1234/x')).to.equal(true);
    expect(await verdict('https://[::1]:8443/x')).to.equal(true);
    expect(await verdict('https://[::1]:8444/x')).to.equal(false);
    expect(await verdict('ftp://hooks.test/x')).to.equal(false);
  });
});
