// Names, versions, ranges and the manifest schema.
import { expect } from 'chai';
import { checkPackageName, checkTag, isPackageName } from '../../src/domain/names.js';
import { compareVersions, parseRange, satisfies, versionOfRef } from '../../src/domain/version.js';
import { parseManifest } from '../../src/domain/manifest.js';
import { codeOf } from '../support/error-codes.js';


describe('domain: names', () => {
  for (const ok of ['hello', 'lib-foo', 'gtk+3', 'a.b_c', '0ad']) it(`accepts ${ok}`, () => expect(isPackageName(ok)).to.equal(true));
  for (const bad of ['', 'Hello', '-x', '.x', '../x', 'a/b', 'a..b', 'x.git', 'a b', 'x'.repeat(65), 'é']) {
    it(`refuses ${JSON.stringify(bad)}`, () => expect(codeOf(() => checkPackageName(bad))).to.equal('invalid_name'));
  }
  it('checks tags', () => expect(codeOf(() => checkTag('<script>'))).to.equal('invalid_name'));
});

describe('domain: versions and ranges', () => {
  const cmp: Array<[string, string, number]> = [
    ['1.0', '1.0', 0], ['1.0', '1.0.1', -1], ['1.10', '1.9', 1], ['2', '10', -1], ['1.0a', '1.0b', -1], ['01', '1', 0], ['1.2.3', '1.2', 1],
  ];
  for (const [a, b, want] of cmp) it(`compares ${a} ${b}`, () => expect(Math.sign(compareVersions(a, b))).to.equal(want));
  it('evaluates ranges', () => {
    expect(satisfies('1.5', parseRange('>=1.2 <2'))).to.equal(true);
    expect(satisfies('2.0', parseRange('>=1.2 <2'))).to.equal(false);
    expect(satisfies('9', parseRange('*'))).to.equal(true);
    expect(satisfies('1.0', parseRange('=1.0'))).to.equal(true);
    expect(satisfies('1.0', parseRange('>1.0'))).to.equal(false);
  });
  it('refuses bad ranges', () => {
    for (const r of ['', '>=', '>>1', 'abc def!']) expect(codeOf(() => parseRange(r)), r).to.equal('invalid_version');
  });
  it('reads version branches', () => {
    expect(versionOfRef('refs/heads/version-1.2.3')).to.equal('1.2.3');
    expect(versionOfRef('refs/heads/master')).to.equal(null);
  });
});

describe('domain: manifest', () => {
  const good = { name: 'hello', version: '1.0', build: ['make'], install: ['make install'], dependencies: { libfoo: '>=1.2 <2' } };
  it('parses a good manifest', () => expect(parseManifest(JSON.stringify(good)).name).to.equal('hello'));
  const bad: Array<[string, unknown]> = [
    ['missing', null], ['not JSON', '{'], ['no name', { version: '1' }], ['bad name', { ...good, name: 'Bad' }],
    ['bad version', { ...good, version: 'x y' }], ['bad range', { ...good, dependencies: { libfoo: '>>1' } }],
    ['bad build', { ...good, build: 'make' }], ['an array', []],
  ];
  for (const [what, v] of bad) {
    it(`refuses ${what}`, () => expect(codeOf(() => parseManifest(v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)))).to.equal('invalid_manifest'));
  }
});
