// One jest run for the whole workspace: unit specs (`*.spec.ts`) next to the
// code and integration specs (`*.integration-spec.ts`) that talk to the real
// PostgreSQL and NATS. SWC compiles with decorator metadata for NestJS.
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias}$`,
    `<rootDir>/${target}`,
  ]),
);

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/{apps,libs,tools,tests}/**/*.{spec,integration-spec}.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleNameMapper,
  globalSetup: '<rootDir>/tools/testing/global-setup.js',
  maxWorkers: 2,
  testTimeout: 30000,
};
