/**
 * @module The folder rules of the source tree (issue 10), checked by
 * `npm run depcruise` in CI. Each rule says which way a dependency may point.
 *
 * Where today's code breaks a rule, the rule is written anyway and the exact file pairs
 * that break it are listed in `exceptions` below, each with the issue that removes it.
 * An exception allows that one pair and nothing else: a new file, or a new import in
 * an excepted file, is still caught.
 */
const { readdirSync } = require('node:fs');

/** Folders under src/ that hold a feature (or wire features together). */
const FEATURES = [
  'auth',
  'comments',
  'photos',
  'replication',
  'routing',
  'orchestration',
  'http',
  'cli',
  'region',
  'edge',
  'peers',
  'local',
  'witness',
];
const features = (...except) => `^src/(${FEATURES.filter((f) => !except.includes(f)).join('|')})/`;

/** The contracts in src/ports/, by file name: an adapter file of the same name implements one. */
const PORTS = readdirSync(`${__dirname}/src/ports`)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3));

/**
 * Known breaks, by rule: `from` may import `to` (both regular expressions on paths)
 * until the issue named in the comment is done.
 */
const exceptions = {
  'routing-storage-through-ports': [
    // The state service keeps the register's record in the region-local app-config table
    // through the SQLite store's commit hook (the table-store port has no such hook yet);
    // it logs the barrier entry through the change-log port.
    { from: 'src/routing/state\\.service\\.ts', to: 'src/adapters/sqlite/table-store\\.ts' },
  ],
};

/**
 * A rule with its exceptions: the rule itself for every module but the excepted ones,
 * and for each excepted module the rule minus its excepted targets.
 */
function withExceptions(rule) {
  const listed = exceptions[rule.name] ?? [];
  const list = (patterns) => [patterns ?? []].flat();
  return [
    { ...rule, from: { ...rule.from, pathNot: [...list(rule.from.pathNot), ...listed.map((e) => `^${e.from}$`)] } },
    ...listed.map((e) => ({
      ...rule,
      // Only the excepted module (a lookahead, so the rule's own `path` and its groups stay).
      from: { ...rule.from, pathNot: [...list(rule.from.pathNot), `^(?!${e.from}$)`] },
      to: { ...rule.to, pathNot: [...list(rule.to.pathNot), `^${e.to}$`] },
    })),
  ];
}

const rules = [
  {
    name: 'no-circular',
    comment: 'No import cycles, between files of any folder.',
    from: {},
    to: { circular: true },
  },
  {
    name: 'core-imports-nothing-of-ours',
    comment: 'src/core is pure logic: it imports nothing of ours outside core.',
    from: { path: '^src/core/' },
    to: { path: '^(src|test|bench)/', pathNot: '^src/core/' },
  },
  {
    name: 'ports-import-only-core',
    comment: 'src/ports are contracts: they import only core.',
    from: { path: '^src/ports/' },
    to: { path: '^(src|test|bench)/', pathNot: '^src/(core|ports)/' },
  },
  {
    name: 'adapters-import-no-feature',
    comment: 'src/adapters implement ports and never import a feature.',
    from: { path: '^src/adapters/' },
    to: { path: features() },
  },
  {
    name: 'src-imports-no-tests-or-benchmarks',
    comment: 'test/ and bench/ use src/, never the other way round.',
    from: { path: '^src/' },
    to: { path: '^(test|bench)/' },
  },
  {
    name: 'http-knows-no-feature',
    comment: 'src/http is the plumbing every feature uses (guards, validation, errors): it imports none of them.',
    from: { path: '^src/http/' },
    to: { path: features('http') },
  },
  {
    name: 'only-composition-roots-import-adapters',
    comment:
      'cli, region and witness (and local, the `mraa up` machinery) choose the adapters; everything else takes ports. ' +
      'test/ and bench/ are composition roots too. replication and routing: their own rules below.',
    from: { path: '^src/', pathNot: '^src/(cli|region|witness|local|adapters|replication|routing)/' },
    to: { path: '^src/adapters/' },
  },
  {
    name: 'nothing-imports-a-composition-root',
    comment:
      'cli, region and witness wire everything together; nothing in src/ imports them (cli may start a region or a witness).',
    from: { path: '^src/', pathNot: '^src/(cli|region|witness)/' },
    to: { path: '^src/(cli|region|witness)/' },
  },
  {
    name: 'replication-storage-through-ports',
    comment: 'src/replication reaches storage only through ports, never an adapter.',
    from: { path: '^src/replication/' },
    to: { path: '^src/adapters/' },
  },
  {
    name: 'replication-peers-through-ports',
    comment: 'src/replication reaches other regions only through a port, never src/peers.',
    from: { path: '^src/replication/' },
    to: { path: '^src/peers/' },
  },
  {
    name: 'replication-knows-no-control-plane',
    comment: 'src/replication moves data; routing and orchestration drive it, not the other way round.',
    from: { path: '^src/replication/' },
    to: { path: '^src/(routing|orchestration)/' },
  },
  {
    name: 'routing-storage-through-ports',
    comment: 'src/routing reaches storage only through ports, never an adapter.',
    from: { path: '^src/routing/' },
    to: { path: '^src/adapters/' },
  },
  {
    name: 'routing-peers-through-ports',
    comment: 'src/routing reaches other regions only through a port, never src/peers.',
    from: { path: '^src/routing/' },
    to: { path: '^src/peers/' },
  },
  {
    name: 'peers-are-transport-only',
    comment: 'src/peers is the inter-region transport: it knows no feature but the http plumbing.',
    from: { path: '^src/peers/' },
    to: { path: features('peers', 'http') },
  },
  {
    name: 'routes-are-wired-by-composition-roots',
    comment: "A feature's routes are registered by a composition root; no other feature imports them.",
    from: { path: '^src/([^/]+)/', pathNot: '^src/(cli|region|witness)/' },
    to: { path: '^src/[^/]+/.+\\.routes\\.ts$', pathNot: '^src/$1/' },
  },
];

module.exports = {
  forbidden: rules.flatMap(withExceptions).map((rule) => ({ severity: 'error', ...rule })),
  required: [
    {
      name: 'adapters-implement-ports',
      comment: 'An adapter file named after a port (sqlite/table-store.ts, disk/object-store.ts) imports that port.',
      severity: 'error',
      module: { path: `^src/adapters/[^/]+/(${PORTS.join('|')})\\.ts$` },
      to: { path: '^src/ports/$1\\.ts$' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.typecheck.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|web/dist)/' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
