// The worker protocol (domain/worker-protocol.ts): its paths as both sides spell them, and the
// server's readers of a job reference, a log chunk's query and a finish result.
import { expect } from 'chai';
import { jobKey, parseFinishResult, parseJobRef, parseLogChunkQuery, WORKER_API_PATH, WORKER_ROUTES, workerPaths } from '../../src/domain/worker-protocol.js';
import { codeOf } from '../support/error-codes.js';


describe('worker protocol', () => {
  it('spells the paths a worker calls under the routes the server declares', () => {
    expect(WORKER_API_PATH).to.equal('/internal/worker');
    expect(workerPaths.claim).to.equal(`${WORKER_API_PATH}${WORKER_ROUTES.claim}`);
    expect(workerPaths.finish).to.equal('/internal/worker/finish');
    expect(workerPaths.log({ pkgid: 7, arch: 'x86_64', attempt: 2 })).to.equal('/internal/worker/log?pkgid=7&arch=x86_64&attempt=2');
    expect(workerPaths.binaries({ pkgid: 12, arch: 'aarch64' })).to.equal('/internal/worker/binaries/12/aarch64');
    expect(WORKER_ROUTES.binaries).to.equal('/binaries/:pkgid/:arch');
    expect(jobKey({ pkgid: 12, arch: 'aarch64' })).to.equal('12:aarch64');
  });

  it('reads a job reference, and a log chunk\'s query as the URL gives it', () => {
    expect(parseJobRef({ pkgid: 3, arch: 'x86_64' })).to.deep.equal({ pkgid: 3, arch: 'x86_64' });
    const q = new URL(`http://x${workerPaths.log({ pkgid: 7, arch: 'aarch64', attempt: 2 })}`).searchParams;
    expect(parseLogChunkQuery(Object.fromEntries(q))).to.deep.equal({ pkgid: 7, arch: 'aarch64', attempt: 2 });
  });

  for (const [what, f] of [
    ['a job of no architecture we build', () => parseJobRef({ pkgid: 3, arch: 'mips' })],
    ['a job without a positive pkgid', () => parseJobRef({ pkgid: 0, arch: 'x86_64' })],
    ['a pkgid given as text', () => parseJobRef({ pkgid: '3', arch: 'x86_64' })],
    ['a log chunk without an attempt', () => parseLogChunkQuery({ pkgid: '3', arch: 'x86_64' })],
    ['a finish result without an outcome', () => parseFinishResult({ pkgid: 3, arch: 'x86_64', attempt: 1, resolved: [] })],
    ['a finish result of an unknown failure reason', () => parseFinishResult({
      pkgid: 3, arch: 'x86_64', attempt: 1, resolved: [],
      outcome: { state: 'failed', reason: 'gremlins', message: '', measurements: null, installed: [], phases: {} },
    })],
  ] as const) {
    it(`refuses ${what} (bad_request)`, () => expect(codeOf(f)).to.equal('bad_request'));
  }
});
