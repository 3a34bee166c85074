// Loaded by mocha before every test file (.mocharc.json `require`): what the test processes, and
// the servers and workers they start (which inherit the environment), run with unless a test says
// otherwise. builder.rebuild.when is none: a rebuild check doubles a build's VM time, so only the
// tests about it (test/e2e/rebuild-check.test.ts, through InstanceOptions.rebuild) turn it on.
process.env.MORPHUX_REBUILD ??= 'none';
