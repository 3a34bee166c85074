// collectWhenQuiet: one collection once a real http server has gone quiet after serving, none
// while it keeps idle; gc() stood in for by a counter (mocha runs without --expose-gc).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/lib/logger.js';
import { collectWhenQuiet } from '../../src/server/idle-gc.js';

describe('collectWhenQuiet', function () {
  this.timeout(15_000);
  const g = globalThis as { gc?: () => void };
  const saved = g.gc;
  after(() => { g.gc = saved; });

  it('collects once after a burst, then not while nothing is served; nothing without gc()', async () => {
    let collections = 0;
    g.gc = () => { collections++; };
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const stop = collectWhenQuiet(server, silentLogger);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      await new Promise((r) => setTimeout(r, 2_500));
      expect(collections).to.equal(0); // nothing served yet
      await Promise.all(Array.from({ length: 20 }, () => fetch(url).then((r) => r.text())));
      expect(collections).to.equal(0);
      await new Promise((r) => setTimeout(r, 3_500));
      expect(collections).to.equal(1);
      await new Promise((r) => setTimeout(r, 2_500));
      expect(collections).to.equal(1);
    } finally {
      stop();
      server.closeAllConnections();
      server.close();
    }
    g.gc = undefined;
    const s2 = http.createServer();
    expect(collectWhenQuiet(s2, silentLogger)).to.be.a('function'); // no gc(): a no-op
    expect(s2.listenerCount('request')).to.equal(0);
  });
});
