// Dependency resolution over an in-memory set of good submissions.
import { expect } from 'chai';
import { resolveDependencies, type Candidate } from '../../src/domain/resolve-dependencies.js';
import { refusal } from '../support/error-codes.js';

const world: Candidate[] = [
  { pkgid: 1, name: 'libz', version: '1.2', dependencies: {} },
  { pkgid: 2, name: 'libz', version: '1.3', dependencies: {} },
  { pkgid: 3, name: 'libfoo', version: '1.5', dependencies: { libz: '>=1.2' } },
  { pkgid: 4, name: 'libfoo', version: '2.0', dependencies: { libz: '>=1.3' } },
  { pkgid: 5, name: 'a', version: '1', dependencies: { b: '*' } },
  { pkgid: 6, name: 'b', version: '1', dependencies: { a: '*' } },
];
const lookup = async (n: string) => world.filter((c) => c.name === n);
const root = (deps: Record<string, string>, build: Record<string, string> = {}) => ({ name: 'app', version: '1', dependencies: deps, build_dependencies: build });

describe('builder: dependency resolution', () => {
  it('picks the highest satisfying version, dependencies first', async () => {
    const r = await resolveDependencies(root({ libfoo: '<2' }), lookup);
    expect(r.map((c) => c.pkgid)).to.deep.equal([2, 3]);
  });
  it('includes build dependencies', async () => {
    const r = await resolveDependencies(root({}, { libfoo: '*' }), lookup);
    expect(r.map((c) => c.pkgid)).to.deep.equal([2, 4]);
  });
  it('fails with dependency naming a missing package', async () => {
    const f = await refusal(resolveDependencies(root({ nosuch: '*' }), lookup));
    expect(f.code).to.equal('dependency');
    expect(f.message).to.contain('nosuch').and.contain('app');
  });
  it('fails with dependency on an unsatisfiable range', async () => {
    const f = await refusal(resolveDependencies(root({ libz: '>=2' }), lookup));
    expect(f.code).to.equal('dependency');
    expect(f.message).to.contain('libz >=2');
  });
  it('fails with dependency on a cycle', async () => {
    const f = await refusal(resolveDependencies(root({ a: '*' }), lookup));
    expect(f.code).to.equal('dependency');
    expect(f.message).to.match(/cycle: app -> a -> b -> a/);
  });
  it('fails when two ranges on one name conflict', async () => {
    const f = await refusal(resolveDependencies(root({ libz: '<1.3', libfoo: '>=2' }), lookup));
    expect(f.code).to.equal('dependency');
  });
});
