// @ts-check
// Who may import whom: the import check, run by `npm run lint:imports` in .ci/run before the tests.
//
// ONE table (LAYERS, below) says for each folder of src/ which folders it may import; every
// "layer:" rule is generated from it (the way microsoft/vscode's `local/code-layering` does). It is
// the target layout of /work/shared/DESIGN.md ("Who may import whom"), adapted to today's folders:
// a row whose folder does not exist yet (replica/, main/) checks nothing until it appears.
//
// Reading a row:  'server': ['domain', 'lib', 'service', 'store', '!store/changes']
//  - the key is a path under src/: a folder ('store', 'store/tree') or a file, with * for any name
//    part ('cli/mpm*.ts'). A module belongs to the most specific key it falls under: src/store/tree/x.ts
//    is 'store/tree', not 'store'; src/server/git-http.ts is 'server/git-http.ts', not 'server'.
//  - a module may always import within its own key (its folder, or the files its key names).
//  - 'x'        may import anything under src/x (folder) or the file(s) src/x names.
//  - 'x:types'  may import x for types only (`import type …`; erased at compile time).
//  - '!x'       never x, even where an entry above allows it (the server and store writers).
//  - anything else under src/ is forbidden; packages and node: built-ins are not the table's concern
//    (but see SPAWNERS).
//
// Today's violations are recorded in .dependency-cruiser-known-violations.json (the baseline) and
// do not fail the check; a new one does. The baseline is meant to shrink to [] as the moves of
// DESIGN.md land. After removing violations, regenerate it (it must only ever shrink):
//   npx depcruise src --config .dependency-cruiser.cjs --output-type baseline > .dependency-cruiser-known-violations.json
// To see every violation, known ones included:  npx depcruise src --config .dependency-cruiser.cjs --no-ignore-known
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const BELOW_SERVICE = ['domain', 'lib', 'config', 'portpkg', 'repos', 'accounts', 'store', 'builder', 'publish', 'replica'];
// What the server may never import directly: the store's writers (each one transaction).
const SERVER_NEVER = ['!store/changes'];
// The mpm client: src/mpm/, and its entry src/cli/mpm.ts.
const MPM_CLIENT = ['mpm', 'cli/mpm.ts'];

/** @type {Record<string, string[]>} folder (or file glob) under src/ → what it may import */
const LAYERS = {
  // words and wire formats: names, versions, manifest, errors, protocols. Nothing of ours.
  'domain': [],
  // plumbing with no domain knowledge: the git runner, atomic-write, async-mutex, logger
  'lib': ['domain'],
  // the YAML schema, the one environment reader, the data dir layout
  'config': ['domain', 'lib'],
  // the portpkg archive: inspect (safe tar), unpack
  'portpkg': ['domain', 'lib'],
  // bare repos: create, hooks, push facts, archive
  'repos': ['domain', 'lib'],
  // users, tokens, owners: data only, no rules
  'accounts': ['domain', 'lib'],
  // the store; once split: layout → tree; changes and catalog → layout, tree
  'store': ['domain', 'lib', 'portpkg'],
  'store/tree': ['domain', 'lib', 'portpkg'],
  'store/layout': ['domain', 'lib', 'portpkg', 'store/tree'],
  'store/changes': ['domain', 'lib', 'portpkg', 'store/tree', 'store/layout'],
  'store/catalog': ['domain', 'lib', 'portpkg', 'store/tree', 'store/layout'],
  // queue, workers, VMs behind BuildHost: no store; the config for its types only
  'builder': ['domain', 'lib', 'portpkg', 'config:types'],
  // what the builder may, and the store and accounts
  'publish': ['domain', 'lib', 'portpkg', 'config:types', 'store', 'accounts'],
  'replica': ['domain', 'lib', 'portpkg', 'config:types', 'store', 'accounts'],
  // the use cases: everything below them; never server, main, cli
  'service': [...BELOW_SERVICE],
  // HTTP adapters only: use cases, words, plumbing and the read side of the store (the config's
  // types, for the options it is handed); never a store writer; only the git transport (git-http.ts)
  // imports repos/
  'server': ['domain', 'lib', 'config:types', 'service', 'store', ...SERVER_NEVER],
  'server/git-http.ts': ['domain', 'lib', 'config:types', 'service', 'store', ...SERVER_NEVER, 'server', 'repos'],
  // the hook client git runs
  'hooks': ['domain'],
  // the composition root: anything but cli and mpm
  'main': [...BELOW_SERVICE, 'service', 'server', 'hooks'],
  // the client: its own files, the words, and plumbing with no domain knowledge (atomic writes,
  // one-line errors: copying them into the client would be worse); no server code
  'mpm': ['domain', 'lib', ...MPM_CLIENT],
  'cli/mpm.ts': ['domain', 'lib', ...MPM_CLIENT],
  // entry points: commands call main/ and service/
  'cli': ['domain', 'lib', 'main', 'service'],
};

// Who may start processes (import execa or node:child_process): the one git runner, the VMs,
// publish's compressor and the client. Same path syntax as the table's keys.
const SPAWNERS = ['lib/git', 'lib/git.ts', 'builder/vm', 'publish/compress-binaries.ts', ...MPM_CLIENT];

// ---------------------------------------------------------------------------------------------
// Generating the rules from the table.

/** 'store/set-*.ts' → ^src/store/set-[^/]*\.ts$ ; 'store' → ^src/store/ */
function keyRegex(key) {
  const body = key.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
  return /\.[cm]?[jt]s$/.test(key) ? `^src/${body}$` : `^src/${body}/`;
}
const anyOf = (keys) => keys.map(keyRegex).join('|');
// 'a' is under 'b' when b is a folder holding a's path ('cli/mpm*.ts' is under 'cli').
const isUnder = (a, b) => a !== b && a.startsWith(`${b}/`);

const layerRules = [];
for (const [key, entries] of Object.entries(LAYERS)) {
  const may = [key];
  const typesOnly = [];
  const never = [];
  for (const entry of entries) {
    if (entry.startsWith('!')) never.push(entry.slice(1));
    else if (entry.endsWith(':types')) typesOnly.push(entry.slice(0, -':types'.length));
    else may.push(entry);
  }
  const moreSpecific = Object.keys(LAYERS).filter((other) => isUnder(other, key));
  const from = { path: keyRegex(key), ...(moreSpecific.length ? { pathNot: anyOf(moreSpecific) } : {}) };
  const says = `src/${key} may import ${[...may.slice(1), ...typesOnly.map((t) => `${t} (types only)`)].join(', ') || 'nothing of ours'}`
    + (never.length ? `; never ${never.join(', ')}` : '');
  layerRules.push({
    name: `layer:${key}`,
    comment: `${says} (LAYERS in .dependency-cruiser.cjs)`,
    severity: 'error',
    from,
    to: { path: '^src/', pathNot: anyOf([...may, ...typesOnly]) },
  });
  if (typesOnly.length) {
    layerRules.push({
      name: `layer:${key}:types-only`,
      comment: `${says}: a value import of a types-only folder (LAYERS in .dependency-cruiser.cjs)`,
      severity: 'error',
      from,
      to: { path: anyOf(typesOnly), dependencyTypesNot: ['type-only'] },
    });
  }
  if (never.length) {
    layerRules.push({
      name: `layer:${key}:never`,
      comment: `${says} (LAYERS in .dependency-cruiser.cjs)`,
      severity: 'error',
      from,
      to: { path: anyOf(never) },
    });
  }
}

// The baseline is loaded here too, so that a bare `depcruise src --config .dependency-cruiser.cjs`
// (the before-stop hook's command) agrees with `--ignore-known`; except while the baseline is
// being regenerated (--output-type baseline: it must list every violation) or when asked to show
// every violation (--no-ignore-known).
const argv = process.argv.slice(2);
const everyViolation = argv.includes('--no-ignore-known') || argv.some((arg, i) =>
  arg === '--output-type=baseline' || arg === '-Tbaseline'
  || ((arg === '--output-type' || arg === '-T') && argv[i + 1] === 'baseline'));
const baselineFile = path.join(__dirname, '.dependency-cruiser-known-violations.json');
const knownViolations = !everyViolation && fs.existsSync(baselineFile)
  ? JSON.parse(fs.readFileSync(baselineFile, 'utf8'))
  : undefined;

// depcruise exits with the number of errors as its status, and a process status is that number
// modulo 256: exactly 256 violations (one bad import can make hundreds of cycles) would exit 0
// and pass. This config is loaded in depcruise's own process, so it caps the status at 255.
process.on('exit', () => {
  if (typeof process.exitCode === 'number' && process.exitCode > 255) process.exitCode = 255;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer:unlisted',
      comment: 'this folder of src/ is not in the table: add a row to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf(Object.keys(LAYERS)) },
      to: { path: '^src/' },
    },
    {
      name: 'no-circular',
      comment: 'no import loops anywhere (type-only imports included: a loop of types is still a loop of layers)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'spawns-processes',
      comment: 'only lib/git, builder/vm, publish\'s compressor and the mpm client start processes (SPAWNERS in .dependency-cruiser.cjs)',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf(SPAWNERS) },
      to: { path: '^(node:)?child_process$|(^|/)node_modules/execa/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves (an unresolved one would escape the rules above)',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Only src/ is checked; packages are seen (for spawns-processes) but not followed.
    doNotFollow: { path: '(^|/)node_modules/' },
    // `import type` and `import { type X }` count: a layer is a layer for types too (the table says
    // where types-only imports are fine).
    tsPreCompilationDeps: true,
    // NodeNext: '../domain/names.js' resolves to src/domain/names.ts through the tsconfig.
    tsConfig: { fileName: 'tsconfig.json' },
    // packages with only an "exports" map (lowdb, hono/html, …)
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    ...(knownViolations ? { knownViolations } : {}),
  },
};
