// LogProgress: the phase of a build read from its console as it streams (markers of the guest's
// phase scripts), lines split across chunks, each phase reported once, percentages rising.
import { expect } from 'chai';
import { buildProgress, LogProgress, type BuildProgress } from '../../src/builder/build-progress.js';

describe('build progress from the VM console', () => {
  it('follows build steps, install and the result, across chunk boundaries', () => {
    const t = new LogProgress();
    const console = [
      '[    0.8] kernel noise\n==> morphux: installing dependency 3.tar.gz\n',
      '==> build step 1/2: ./configure\nchecking for gcc... gcc\n==> bui', 'ld step 2/2: make\n',
      'cc -o hello hello.c\n==> install step 1/1: make install\r\n', 'install -m 755 hello /usr/bin\n',
      '==> morphux: result written\n', '==> morphux: result written\n',
    ];
    const seen: BuildProgress[] = [];
    for (const c of console) {
      const p = t.feed(Buffer.from(c));
      if (p) seen.push(p);
    }
    expect(seen.map((p) => `${p.phase}${p.detail ? ` ${p.detail}` : ''}`)).to.deep.equal(['building step 1/2', 'building step 2/2', 'installing', 'collecting']);
    const percents = [buildProgress('booting').percent, ...seen.map((p) => p.percent), buildProgress('uploading').percent];
    expect(percents).to.deep.equal([...percents].sort((a, b) => a - b));
    expect(new Set(percents).size).to.equal(percents.length);
  });

  it('ignores a build whose output only looks like a marker mid-line', () => {
    const t = new LogProgress();
    expect(t.feed(Buffer.from('echo "==> install step 1/1: x"\n'))).to.equal(null);
  });
});
