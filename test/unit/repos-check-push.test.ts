// The version-branch push rules of checkPush, over fake facts (no git): one case per rule.
import { expect } from 'chai';
import { ZERO_ID as ZERO, type RefUpdate } from '../../src/domain/hook-protocol.js';
import { checkPush, type PushFacts } from '../../src/repos/check-push.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
// a sha256 repo's ids (64 hex digits), its zero id too
const ZERO64 = '0'.repeat(64);
const A64 = 'a'.repeat(64);
const B64 = 'b'.repeat(64);
const manifest = (name: string, version: string) => Buffer.from(JSON.stringify({ name, version }));

function facts(files: Record<string, Buffer | null>, ancestors: [string, string][] = []): PushFacts {
  return {
    isAncestor: async (old, next) => old === next || ancestors.some(([o, n]) => o === old && n === next),
    readFile: async (commit, path) => (path === 'package.json' ? (files[commit] ?? null) : null),
  };
}
const check = (updates: RefUpdate[], f: PushFacts) => checkPush({ gitdir: '/nonexistent', repoName: 'hello', updates }, f);

describe('checkPush rules', () => {
  const cases: { title: string; update: RefUpdate; files: Record<string, Buffer | null>; ancestors?: [string, string][]; code: string | null }[] = [
    { title: 'a new version branch with a matching package.json', update: { old: ZERO, new: A, ref: 'refs/heads/version-1.0' }, files: { [A]: manifest('hello', '1.0') }, code: null },
    { title: 'a fast-forward', update: { old: A, new: B, ref: 'refs/heads/version-1.0' }, files: { [B]: manifest('hello', '1.0') }, ancestors: [[A, B]], code: null },
    { title: 'a rewrite', update: { old: A, new: B, ref: 'refs/heads/version-1.0' }, files: { [B]: manifest('hello', '1.0') }, code: 'non_fast_forward' },
    { title: 'a deletion', update: { old: A, new: ZERO, ref: 'refs/heads/version-1.0' }, files: {}, code: 'branch_deletion' },
    { title: 'no package.json', update: { old: ZERO, new: A, ref: 'refs/heads/version-1.0' }, files: {}, code: 'invalid_manifest' },
    { title: 'package.json not JSON', update: { old: ZERO, new: A, ref: 'refs/heads/version-1.0' }, files: { [A]: Buffer.from('{') }, code: 'invalid_manifest' },
    { title: 'package.json off the schema', update: { old: ZERO, new: A, ref: 'refs/heads/version-1.0' }, files: { [A]: Buffer.from('{"name":"hello","version":"1.0","build":"make"}') }, code: 'invalid_manifest' },
    { title: 'another name', update: { old: ZERO, new: A, ref: 'refs/heads/version-1.0' }, files: { [A]: manifest('other', '1.0') }, code: 'name_mismatch' },
    { title: 'another version', update: { old: ZERO, new: A, ref: 'refs/heads/version-1.0' }, files: { [A]: manifest('hello', '2.0') }, code: 'version_mismatch' },
    { title: 'an equal but differently written version', update: { old: ZERO, new: A, ref: 'refs/heads/version-1.0' }, files: { [A]: manifest('hello', '1.00') }, code: 'version_mismatch' },
    { title: 'a branch naming no version', update: { old: ZERO, new: A, ref: 'refs/heads/version-' }, files: { [A]: manifest('hello', '1.0') }, code: 'version_mismatch' },
    { title: 'master without package.json', update: { old: ZERO, new: A, ref: 'refs/heads/master' }, files: {}, code: null },
    { title: 'a rewrite of another branch', update: { old: A, new: B, ref: 'refs/heads/feature' }, files: {}, code: null },
    { title: 'deleting another branch', update: { old: A, new: ZERO, ref: 'refs/heads/feature' }, files: {}, code: null },
    { title: 'a tag named like a version branch', update: { old: ZERO, new: A, ref: 'refs/tags/version-1.0' }, files: {}, code: null },
    { title: 'a new version branch of a sha256 repo', update: { old: ZERO64, new: A64, ref: 'refs/heads/version-1.0' }, files: { [A64]: manifest('hello', '1.0') }, code: null },
    { title: 'a rewrite in a sha256 repo', update: { old: A64, new: B64, ref: 'refs/heads/version-1.0' }, files: { [B64]: manifest('hello', '1.0') }, code: 'non_fast_forward' },
    { title: 'a deletion in a sha256 repo', update: { old: A64, new: ZERO64, ref: 'refs/heads/version-1.0' }, files: {}, code: 'branch_deletion' },
  ];
  for (const c of cases) {
    it(`${c.code ? 'refuses' : 'accepts'} ${c.title}${c.code ? ` (${c.code})` : ''}`, async () => {
      const verdict = await check([c.update], facts(c.files, c.ancestors));
      expect(verdict.ok).to.equal(c.code === null);
      expect(verdict.refusals.map((r) => [r.ref, r.code])).to.deep.equal(c.code ? [[c.update.ref, c.code]] : []);
      if (c.code) expect(verdict.refusals[0].message).to.match(new RegExp(`^${c.update.ref.slice('refs/heads/'.length).replace('.', '\\.')}: `));
    });
  }

  it('reports every refused ref of a push, and refuses the whole push', async () => {
    const verdict = await check(
      [
        { old: ZERO, new: A, ref: 'refs/heads/master' },
        { old: ZERO, new: A, ref: 'refs/heads/version-1.0' },
        { old: B, new: ZERO, ref: 'refs/heads/version-0.9' },
      ],
      facts({ [A]: manifest('hello', '2.0') }),
    );
    expect(verdict.ok).to.equal(false);
    expect(verdict.refusals.map((r) => r.code)).to.deep.equal(['version_mismatch', 'branch_deletion']);
  });
});
