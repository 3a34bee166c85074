// The push-hook protocol (domain/hook-protocol.ts): the one object-id pattern, git's pre-/post-receive
// stdin lines, the request the server reads, and the refusal line a pusher sees.
import { expect } from 'chai';
import { asyncCodeOf } from '../support/error-codes.js';
import {
  HOOK_HEADERS, hookReplyToWire, hookRequestFromWire, isObjectId, isZeroId, OBJECT_ID, parseHookRequest, parseReceiveInput, parseRefusalLine, refusalLine,
} from '../../src/domain/hook-protocol.js';

const hex = (n: number, c = 'a') => c.repeat(n);
const SHA1 = '3b18e512dba79e4c8300dd08aeb37f8e728b8dad';
const SHA256 = '5a2e8f1c9d7b3a6e4f0c2d8b1a9e7f3c5d2b8a4e6f1c3d9b7a5e2f8c4d1b6a3e';

describe('hook protocol: object ids', () => {
  it('accepts 40 hex digits (sha1) and 64 (sha256)', () => {
    for (const id of [SHA1, SHA256, hex(40), hex(64), hex(40, '0'), hex(64, '9')]) expect(isObjectId(id), id).to.equal(true);
  });
  for (const [what, id] of [
    ['39 digits', hex(39)], ['41 digits', hex(41)], ['63 digits', hex(63)], ['65 digits', hex(65)],
    ['48 digits (between the two)', hex(48)], ['uppercase (40)', SHA1.toUpperCase()], ['uppercase (64)', SHA256.toUpperCase()],
    ['one uppercase digit', `A${SHA1.slice(1)}`], ['a non-hex letter', `g${SHA1.slice(1)}`], ['nothing', ''],
    ['a trailing newline', `${SHA1}\n`], ['a leading blank', ` ${SHA1}`], ['a ref name', 'refs/heads/master'],
  ] as const) {
    it(`refuses ${what}`, () => {
      expect(isObjectId(id)).to.equal(false);
      expect(OBJECT_ID.test(id)).to.equal(false);
    });
  }
  it('knows the zero id of either length, and nothing else as zero', () => {
    expect(isZeroId(hex(40, '0'))).to.equal(true);
    expect(isZeroId(hex(64, '0'))).to.equal(true);
    expect(isZeroId(hex(39, '0'))).to.equal(false);
    expect(isZeroId(SHA1)).to.equal(false);
  });
});

describe('hook protocol: git\'s pre-/post-receive stdin', () => {
  it('reads one update per line, sha1 and sha256, skipping blank lines', () => {
    const text = `${hex(40, '0')} ${SHA1} refs/heads/version-1.0\n\n${SHA256} ${hex(64, '0')} refs/heads/feature\n`;
    expect(parseReceiveInput(text)).to.deep.equal([
      { old: hex(40, '0'), new: SHA1, ref: 'refs/heads/version-1.0' },
      { old: SHA256, new: hex(64, '0'), ref: 'refs/heads/feature' },
    ]);
  });
  it('reads nothing from an empty stdin', () => expect(parseReceiveInput('')).to.deep.equal([]));
  it('takes CRLF line ends', () => expect(parseReceiveInput(`${SHA1} ${SHA1} refs/heads/x\r\n`)).to.deep.equal([{ old: SHA1, new: SHA1, ref: 'refs/heads/x' }]));
  for (const [what, line] of [
    ['a 41-digit id', `${hex(41)} ${SHA1} refs/heads/x`],
    ['a 63-digit id', `${SHA1} ${hex(63)} refs/heads/x`],
    ['an uppercase id', `${SHA1.toUpperCase()} ${SHA1} refs/heads/x`],
    ['no ref', `${SHA1} ${SHA1}`],
    ['a fourth field', `${SHA1} ${SHA1} refs/heads/x extra`],
    ['two blanks between fields', `${SHA1}  ${SHA1} refs/heads/x`],
    ['a tab in the ref', `${SHA1} ${SHA1} refs/heads/x\ty`],
  ] as const) {
    it(`refuses a line with ${what} (bad_request)`, async () => {
      expect(await asyncCodeOf(() => parseReceiveInput(`${SHA1} ${SHA1} refs/heads/ok\n${line}\n`))).to.equal('bad_request');
    });
  }
});

describe('hook protocol: the request the server reads', () => {
  const good = { hook: 'pre-receive', repo: 'hello', pusher: 'alice', updates: [{ old: hex(40, '0'), new: SHA1, ref: 'refs/heads/version-1.0' }], quarantine: { GIT_QUARANTINE_PATH: '/data/repos/hello.git/objects/tmp_objdir-incoming-x' } };
  it('reads a hook client\'s request', async () => expect(await parseHookRequest(good)).to.deep.equal(good));
  it('reads a post-receive request (no hook field, no pusher, no quarantine)', async () => {
    expect(await parseHookRequest({ repo: 'hello', updates: [{ old: SHA256, new: SHA256, ref: 'refs/heads/x' }] }))
      .to.deep.equal({ repo: 'hello', pusher: '', updates: [{ old: SHA256, new: SHA256, ref: 'refs/heads/x' }] });
  });
  for (const [what, body] of [
    ['an update with a 39-digit id', { ...good, updates: [{ old: hex(39), new: SHA1, ref: 'refs/heads/x' }] }],
    ['an update with a 65-digit id', { ...good, updates: [{ old: SHA1, new: hex(65), ref: 'refs/heads/x' }] }],
    ['an update with an uppercase id', { ...good, updates: [{ old: SHA1.toUpperCase(), new: SHA1, ref: 'refs/heads/x' }] }],
    ['a repo that is no package name', { ...good, repo: '../etc' }],
    ['an unknown hook', { ...good, hook: 'update' }],
    ['a quarantine variable git does not set', { ...good, quarantine: { GIT_DIR: '/tmp' } }],
    ['no updates', { repo: 'hello' }],
    ['not an object', 'pre-receive'],
  ] as const) {
    it(`refuses ${what} (bad_request)`, async () => expect(await asyncCodeOf(() => parseHookRequest(body))).to.equal('bad_request'));
  }
});

describe('hook protocol: the wire (git\'s stdin as the body, the rest as headers; messages as lines)', () => {
  const stdin = `${hex(40, '0')} ${SHA1} refs/heads/version-1.0\n`;
  const headers: Record<string, string> = {
    [HOOK_HEADERS.repo]: 'hello', [HOOK_HEADERS.pusher]: 'alice',
    [HOOK_HEADERS.GIT_QUARANTINE_PATH]: '/d/repos/hello.git/objects/tmp_objdir-incoming-x',
    [HOOK_HEADERS.GIT_ALTERNATE_OBJECT_DIRECTORIES]: '/d/repos/hello.git/objects:/d/other',
  };
  it('reads a pre-receive: updates from the body, repo, pusher and quarantine from the headers', async () => {
    expect(await parseHookRequest(hookRequestFromWire('pre-receive', (h) => headers[h], stdin))).to.deep.equal({
      hook: 'pre-receive', repo: 'hello', pusher: 'alice',
      updates: [{ old: hex(40, '0'), new: SHA1, ref: 'refs/heads/version-1.0' }],
      quarantine: { GIT_QUARANTINE_PATH: '/d/repos/hello.git/objects/tmp_objdir-incoming-x', GIT_ALTERNATE_OBJECT_DIRECTORIES: '/d/repos/hello.git/objects:/d/other' },
    });
  });
  it('keeps no quarantine for a post-receive, and an empty pusher when none is sent', async () => {
    const r = await parseHookRequest(hookRequestFromWire('post-receive', (h) => (h === HOOK_HEADERS.pusher ? undefined : headers[h]), stdin));
    expect(r).to.include({ repo: 'hello', pusher: '', quarantine: null });
  });
  it('refuses a body that is not git\'s stdin, and a missing repo (bad_request)', async () => {
    expect(await asyncCodeOf(async () => hookRequestFromWire('pre-receive', (h) => headers[h], 'not a ref line\n'))).to.equal('bad_request');
    expect(await asyncCodeOf(() => parseHookRequest(hookRequestFromWire('pre-receive', () => undefined, stdin)))).to.equal('bad_request');
  });
  it('answers 200 with one message a line; 409 only for a pre-receive refusing', () => {
    expect(hookReplyToWire('pre-receive', { ok: true, messages: [] })).to.deep.equal({ status: 200, text: '' });
    expect(hookReplyToWire('pre-receive', { ok: false, messages: ['refused (x): a', 'refused (y): b'] })).to.deep.equal({ status: 409, text: 'refused (x): a\nrefused (y): b\n' });
    expect(hookReplyToWire('post-receive', { ok: false, messages: ['m'] }).status).to.equal(200);
  });
  it('turns a message\'s own line breaks and control characters into blanks: one message, one remote: line', () => {
    expect(hookReplyToWire('post-receive', { ok: true, messages: ['a\nrefused (x): forged\r\u001b[31m'] }).text).to.equal('a refused (x): forged  [31m\n');
  });
});

describe('hook protocol: refusal lines', () => {
  it('puts the code first, and reads it back from git\'s remote: line', () => {
    const line = refusalLine({ code: 'non_fast_forward', message: 'version-1.0: version branches cannot be rewritten' });
    expect(line).to.equal('refused (non_fast_forward): version-1.0: version branches cannot be rewritten');
    expect(parseRefusalLine(line)).to.deep.equal({ code: 'non_fast_forward', message: 'version-1.0: version branches cannot be rewritten' });
    expect(parseRefusalLine(`remote: ${line}        `)).to.deep.equal({ code: 'non_fast_forward', message: 'version-1.0: version branches cannot be rewritten' });
  });
  it('reads no code from other lines, nor from words inside a message', () => {
    expect(parseRefusalLine('remote: submission 3 queued: http://x/pkg/3')).to.equal(null);
    expect(parseRefusalLine('remote: version-1.0: a name saying refused (too_large): x')).to.equal(null);
  });
});
