// Build provenance without I/O (domain/dsse.ts, provenance-statement.ts, provenance-check.ts): DSSE's PAE as the spec gives it, the
// in-toto statement with its SLSA v1 predicate, the envelope signed and verified (a changed byte,
// an untrusted key, a forged key id and an unsigned envelope refused), and the comparison with an
// install plan that `mpm install --require-provenance` makes.
import { expect } from 'chai';
import { generateKeyPairSync, verify } from 'node:crypto';
import { pae, signEnvelope, verifyEnvelope } from '../../src/domain/dsse.js';
import { checkProvenance, summarize } from '../../src/domain/provenance-check.js';
import { buildStatement, IN_TOTO_PAYLOAD_TYPE, provenanceEnvelope, verifyProvenance, type ProvenanceFacts } from '../../src/domain/provenance-statement.js';
import { signingKeyId } from '../../src/domain/signed-index.js';
import { parseFinishResult } from '../../src/domain/worker-protocol.js';
import { isMorphuxError, type MorphuxError } from '../../src/domain/errors.js';

const k = generateKeyPairSync('ed25519');
const kid = signingKeyId(k.publicKey);
const key = { id: kid, privateKey: k.privateKey };
const trusted = new Map([[kid, k.publicKey]]);
const other = generateKeyPairSync('ed25519');
const H = (c: string) => c.repeat(64);

const facts: ProvenanceFacts = {
  origin: 'https://pkgs.example/', pkgid: 7, name: 'greet', version: '1.0', arch: 'x86_64',
  source: { type: 'git', repo: 'greet', ref: 'refs/heads/version-1.0', commit: 'c'.repeat(40) },
  portpkg_sha256: H('d'), dependencies: { libgreet: '>=1.0 <2' }, build_dependencies: { cc: '*' },
  binaries_sha256: H('a'), manifest_sha256: H('b'),
  resolved: [
    { pkgid: 3, name: 'libgreet', version: '1.0', binaries_sha256: H('1'), manifest_sha256: H('2') },
    { pkgid: 4, name: 'cc', version: '9', binaries_sha256: H('3'), manifest_sha256: null },
  ],
  vm: { root_image: H('4'), kernel: H('5'), initrd: H('6') },
  builder_id: 'https://pkgs.example/builders/embedded', invocation_id: 'pkg/7/x86_64/attempt/1',
  started_on: '2030-01-01T00:00:00Z', finished_on: '2030-01-01T00:01:00Z',
};

function refused(f: () => unknown): MorphuxError {
  try {
    f();
  } catch (e) {
    if (isMorphuxError(e)) return e;
    throw e;
  }
  throw new Error('not refused');
}

describe('build provenance (in-toto statement, SLSA v1, DSSE)', () => {
  it('encodes PAE as the DSSE spec\'s example does', () => {
    expect(pae('http://example.com/HelloWorld', 'hello world').toString('latin1')).to.equal('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    // lengths count bytes, not characters
    expect(pae('t', 'é').toString('utf8')).to.equal('DSSEv1 1 t 2 é');
    expect(pae('', '').toString()).to.equal('DSSEv1 0  0 ');
  });

  it('makes an in-toto Statement v1 with a SLSA Provenance v1 predicate naming subjects, source, VM images and dependencies', () => {
    const s = buildStatement(facts) as any;
    expect(s._type).to.equal('https://in-toto.io/Statement/v1');
    expect(s.predicateType).to.equal('https://slsa.dev/provenance/v1');
    expect(s.subject).to.deep.equal([
      { name: 'files.tar.gz', uri: 'https://pkgs.example/pkg/7/binaries/x86_64', digest: { sha256: H('a') } },
      { name: 'manifest.json', uri: 'https://pkgs.example/pkg/7/binaries/x86_64/manifest', digest: { sha256: H('b') } },
    ]);
    const def = s.predicate.buildDefinition;
    expect(def.buildType).to.match(/^https:\/\/morphux\.org\//);
    expect(def.externalParameters).to.deep.include({
      package: { name: 'greet', version: '1.0', pkgid: 7 }, arch: 'x86_64',
      source: { repo: 'https://pkgs.example/greet.git', ref: 'refs/heads/version-1.0', commit: 'c'.repeat(40) },
    });
    const deps = def.resolvedDependencies as any[];
    expect(deps.find((d) => d.name === 'source')).to.deep.include({ uri: 'git+https://pkgs.example/greet.git@refs/heads/version-1.0', digest: { gitCommit: 'c'.repeat(40) } });
    expect(deps.find((d) => d.name === 'portpkg.tgz').digest).to.deep.equal({ sha256: H('d') });
    expect(deps.find((d) => d.name === 'root.ext4').digest).to.deep.equal({ sha256: H('4') });
    expect(deps.find((d) => d.name === 'vmlinux').digest).to.deep.equal({ sha256: H('5') });
    expect(deps.find((d) => d.name === 'initrd.cpio.gz').digest).to.deep.equal({ sha256: H('6') });
    expect(deps.find((d) => d.name === 'libgreet')).to.deep.equal({
      name: 'libgreet', uri: 'https://pkgs.example/pkg/3/binaries/x86_64', digest: { sha256: H('1') },
      annotations: { kind: 'dependency', pkgid: 3, version: '1.0', manifest_sha256: H('2') },
    });
    expect(s.predicate.runDetails).to.deep.equal({
      builder: { id: 'https://pkgs.example/builders/embedded' },
      metadata: { invocationId: 'pkg/7/x86_64/attempt/1', startedOn: '2030-01-01T00:00:00Z', finishedOn: '2030-01-01T00:01:00Z' },
    });
    const sum = summarize(buildStatement(facts));
    expect(sum.dependencies.map((d) => d.pkgid)).to.deep.equal([3, 4]);
    expect(sum.vm).to.deep.equal(facts.vm);
    // an upload has no git source: the snapshot built is the source
    const up = buildStatement({ ...facts, source: { type: 'upload', filename: 'greet.tgz' }, vm: null }) as any;
    expect(up.predicate.buildDefinition.resolvedDependencies.map((d: any) => d.name)).to.deep.equal(['portpkg.tgz', 'libgreet', 'cc']);
  });

  it('signs a DSSE envelope over PAE with Ed25519 under the index\'s key id, and verifies it', () => {
    const text = provenanceEnvelope(buildStatement(facts), key);
    const env = JSON.parse(text);
    expect(Object.keys(env).sort()).to.deep.equal(['payload', 'payloadType', 'signatures']);
    expect(env.payloadType).to.equal('application/vnd.in-toto+json');
    expect(env.signatures).to.have.length(1);
    expect(env.signatures[0].keyid).to.equal(kid).and.match(/^[0-9a-f]{16}$/);
    // checked here with nothing of ours but the PAE written out by hand
    const payload = Buffer.from(env.payload, 'base64');
    const message = Buffer.concat([Buffer.from(`DSSEv1 ${IN_TOTO_PAYLOAD_TYPE.length} ${IN_TOTO_PAYLOAD_TYPE} ${payload.length} `), payload]);
    expect(verify(null, message, k.publicKey, Buffer.from(env.signatures[0].sig, 'base64'))).to.equal(true);
    const v = verifyProvenance(text, trusted);
    expect(v.keyId).to.equal(kid);
    expect(v.statement).to.deep.equal(buildStatement(facts));
  });

  it('refuses a changed payload, an untrusted key, a forged key id, another payload type and an unsigned envelope', () => {
    const env = JSON.parse(provenanceEnvelope(buildStatement(facts), key));
    const changed = { ...env, payload: Buffer.from(JSON.stringify(buildStatement({ ...facts, binaries_sha256: H('f') }))).toString('base64') };
    let e = refused(() => verifyProvenance(JSON.stringify(changed), trusted));
    expect([e.code, e.data.reason]).to.deep.equal(['provenance_invalid', 'signature']);

    e = refused(() => verifyProvenance(JSON.stringify(env), new Map([[signingKeyId(other.publicKey), other.publicKey]])));
    expect([e.code, e.data.reason]).to.deep.equal(['provenance_invalid', 'unknown_key']);

    // signed by another key that claims the trusted key's id
    const forged = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(env.payload, 'base64'), { id: kid, privateKey: other.privateKey });
    e = refused(() => verifyProvenance(JSON.stringify(forged), trusted));
    expect([e.code, e.data.reason]).to.deep.equal(['provenance_invalid', 'signature']);

    // the same bytes signed as another payload type do not pass as a statement
    const otherType = signEnvelope('application/json', Buffer.from(env.payload, 'base64'), key);
    e = refused(() => verifyProvenance(JSON.stringify(otherType), trusted));
    expect([e.code, e.data.reason]).to.deep.equal(['provenance_invalid', 'malformed']);
    e = refused(() => verifyEnvelope(JSON.stringify({ ...otherType, payloadType: IN_TOTO_PAYLOAD_TYPE }), IN_TOTO_PAYLOAD_TYPE, trusted));
    expect([e.code, e.data.reason]).to.deep.equal(['provenance_invalid', 'signature']);

    e = refused(() => verifyProvenance(provenanceEnvelope(buildStatement(facts), null), trusted));
    expect([e.code, e.data.reason]).to.deep.equal(['provenance_invalid', 'unsigned']);
    e = refused(() => verifyProvenance('{"not":"dsse"}', trusted));
    expect([e.code, e.data.reason]).to.deep.equal(['provenance_invalid', 'malformed']);
  });

  it('matches an install plan: same subjects, and every dependency the plan resolves one the build had', () => {
    const s = buildStatement(facts);
    const want = { name: 'greet', pkgid: 7, arch: 'x86_64', binaries_sha256: H('a'), manifest_sha256: H('b'), resolved: { libgreet: 3 } };
    expect(checkProvenance(s, want).pkgid).to.equal(7); // a build-only dependency (cc) is no mismatch
    const mismatch = (w: Partial<typeof want>) => refused(() => checkProvenance(s, { ...want, ...w }));
    expect([mismatch({ binaries_sha256: H('e') }).code, mismatch({ binaries_sha256: H('e') }).data.field]).to.deep.equal(['provenance_mismatch', 'binaries']);
    expect(mismatch({ manifest_sha256: H('e') }).data.field).to.equal('manifest');
    expect(mismatch({ pkgid: 8 }).data.field).to.equal('package');
    expect(mismatch({ arch: 'aarch64' }).data.field).to.equal('package');
    const dep = mismatch({ resolved: { libgreet: 9 } });
    expect(dep.code).to.equal('provenance_mismatch');
    expect(dep.data).to.deep.include({ field: 'dependencies', dependency: 'libgreet', plan_pkgid: 9, built_pkgids: [3] });
  });

  it('carries a remote worker\'s VM image digests and times in the finish result (optional)', () => {
    const base = { pkgid: 1, arch: 'x86_64', attempt: 1, resolved: [], outcome: { state: 'good', reason: null, message: 'built', measurements: null, installed: [], phases: {} } };
    expect(parseFinishResult(base).outcome.vm).to.equal(undefined);
    const r = parseFinishResult({ ...base, outcome: { ...base.outcome, vm: facts.vm, started_at: '2030-01-01T00:00:00Z', finished_at: '2030-01-01T00:01:00Z' } });
    expect(r.outcome.vm).to.deep.equal(facts.vm);
    expect(r.outcome.started_at).to.equal('2030-01-01T00:00:00Z');
    expect(() => parseFinishResult({ ...base, outcome: { ...base.outcome, vm: { root_image: 'x', kernel: H('5'), initrd: H('6') } } })).to.throw();
  });
});
