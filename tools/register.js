// Runs TypeScript sources directly (services, tools) with SWC, resolving the
// `@tep/*` path aliases from tsconfig.base.json. Decorator metadata is
// emitted, which NestJS dependency injection needs.
process.env.SWC_NODE_PROJECT ??= require('node:path').join(__dirname, '..', 'tsconfig.base.json');
require('@swc-node/register');
