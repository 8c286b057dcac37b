/**
 * The layers of src/, and the one rule between them: imports point down, never up, and
 * never in a cycle (checked in `npm test` by `npm run deps`).
 *
 *   entry    index.ts, app.ts, context.ts, config.ts, routes/, pages/, middleware/, jobs/,
 *            tenant/ (the account's Durable Object: its requests, job calls and alarm)
 *   services services/                     plain functions: (db, input) → result
 *   infra    db/, limits/, queue/, capture/, compare/, schedules/, mail/, alerts/
 *   lib      lib/                          no imports from the rest of src/
 */
const ENTRY = "^src/(index|app|context|config)\\.ts$|^src/(routes|pages|middleware|jobs|tenant)/";
const SERVICES = "^src/services/";
const INFRA = "^src/(db|limits|queue|capture|compare|schedules|mail|alerts)/";
const LIB = "^src/lib/";

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
    {
      name: "lib-imports-nothing-above",
      comment: "lib/ is the bottom layer: it may import only lib/ and packages.",
      severity: "error",
      from: { path: LIB },
      to: { path: "^src/", pathNot: LIB },
    },
    {
      name: "infra-not-upward",
      comment: "db, limits, queue, capture, compare, schedules, mail and alerts may not import services or entry code.",
      severity: "error",
      from: { path: INFRA },
      to: { path: `${SERVICES}|${ENTRY}` },
    },
    {
      name: "services-not-upward",
      comment: "Services are called by routes, pages and jobs; they never import them.",
      severity: "error",
      from: { path: SERVICES },
      to: { path: ENTRY },
    },
    {
      name: "no-orphans",
      comment: "A module nothing imports is dead code.",
      severity: "error",
      from: { orphan: true, path: "^src/", pathNot: "\\.d\\.ts$|^src/index\\.ts$" },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // TypeScript 7 has no compiler API for it to use; swc parses the sources instead.
    parser: "swc",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^(test|bench|scripts)/" },
  },
};
