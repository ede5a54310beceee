// jest's globalSetup runs outside the test module system (no moduleNameMapper):
// resolve the tsconfig path aliases here; jest's own transform compiles the TS.
const { compilerOptions } = require('../../tsconfig.base.json');
require('tsconfig-paths').register({
  baseUrl: require('node:path').join(__dirname, '..', '..'),
  paths: compilerOptions.paths,
});
module.exports = require('./global-setup.ts').default;
