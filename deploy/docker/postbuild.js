#!/usr/bin/env node
// Second half of the production build (after `tsc -p deploy/docker/tsconfig.build.json`):
//
// 1. The sources import libraries as `@tep/<name>` (tsconfig paths). tsc does
//    not rewrite those specifiers, so we give Node a real package for each
//    alias: dist/node_modules/@tep/<name>/package.json whose "main" points at
//    the compiled entry. Node finds dist/node_modules from every file under
//    dist/, so no runtime loader (tsconfig-paths, SWC) is needed.
// 2. Runtime files that are not TypeScript (the registry's .proto) are copied
//    next to the compiled code that loads them via __dirname.
//
// Usage: node deploy/docker/postbuild.js [distDir]   (default: dist, from the repository root)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const dist = path.resolve(root, process.argv[2] ?? 'dist');
const { compilerOptions } = JSON.parse(
  fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'),
);

let linked = 0;
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  const compiled = path.join(dist, target.replace(/\.ts$/, '.js'));
  // Aliases of projects that are not part of the build (tools, test harness) are skipped.
  if (!fs.existsSync(compiled)) continue;
  const packageDir = path.join(dist, 'node_modules', ...alias.split('/'));
  fs.mkdirSync(packageDir, { recursive: true });
  fs.writeFileSync(
    path.join(packageDir, 'package.json'),
    JSON.stringify(
      { name: alias, private: true, main: path.relative(packageDir, compiled) },
      null,
      2,
    ) + '\n',
  );
  linked += 1;
}

const ASSETS = /\.(proto)$/;
let copied = 0;
function copyAssets(dir) {
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(relative);
    else if (ASSETS.test(entry.name)) {
      fs.mkdirSync(path.join(dist, dir), { recursive: true });
      fs.copyFileSync(path.join(root, relative), path.join(dist, relative));
      copied += 1;
    }
  }
}
for (const dir of ['apps', 'libs']) copyAssets(dir);

if (linked === 0) {
  console.error(`postbuild: no compiled library entries under ${dist}; run tsc first`);
  process.exit(1);
}
console.log(`postbuild: ${linked} @tep/* packages linked, ${copied} asset(s) copied into ${dist}`);
