#!/usr/bin/env node
// `tep`, the operator CLI. The root `npm ci` links this workspace package's
// bin into node_modules/.bin, so `npx tep --help` works from the repository,
// as does `npm run tep -- <command>`. Runs the TypeScript sources in-process:
// the repository's runner (SWC with the tsconfig.base.json paths), then the
// development environment preload (the key `npm start` generated, if any),
// then the CLI's main.
'use strict';
const { join } = require('node:path');

const root = join(__dirname, '..', '..', '..');
require(join(root, 'tools', 'register.js'));
require(join(root, 'tools', 'dev', 'dev-env.js'));
require(join(__dirname, '..', 'src', 'main.ts')).runAsProgram();
