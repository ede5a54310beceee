/**
 * deploy/docker: no Docker engine runs here, so the Dockerfile is checked by
 * reading it (stages, non-root user, production dependencies only, no
 * HEALTHCHECK, every COPY source present and not excluded by the
 * .dockerignore), and its build step is run for real: tsc with
 * deploy/docker/tsconfig.build.json plus postbuild.js into a scratch dist/,
 * whose output must hold every service's entry point, resolve the @tep/*
 * aliases and require only production dependencies.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DEPLOY_DIR, REPO_ROOT, SERVICES, loadK8sFile, resourceFiles } from './deploy-files';

const DOCKER_DIR = join(DEPLOY_DIR, 'docker');
const dockerfile = readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(DOCKER_DIR, 'Dockerfile.dockerignore'), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Dockerfile instructions (continuations joined, comments dropped), grouped by stage. */
function parseDockerfile(text: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!current && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword, ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      stages.push({ from: m![1], name: m![2], instructions: [] });
    } else if (stages.length === 0) {
      globalArgs.push(instruction);
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** .dockerignore semantics (moby patternmatcher): last matching pattern wins; a match on a parent counts. */
function ignored(path: string, patterns: string[]): boolean {
  const toRegex = (pattern: string) =>
    new RegExp(
      '^' +
        pattern
          .split(/(\*\*\/|\*\*|\*|\?)/)
          .map((token) => {
            switch (token) {
              case '**/':
                return '(?:.*/)?';
              case '**':
                return '.*';
              case '*':
                return '[^/]*';
              case '?':
                return '[^/]';
              default:
                return token.replace(/[.+^${}()|[\]\\]/g, '\\$&');
            }
          })
          .join('') +
        '$',
    );
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const regex = toRegex(negated ? pattern.slice(1) : pattern);
    if (candidates.some((c) => regex.test(c))) excluded = !negated;
  }
  return excluded;
}

const ignorePatterns = dockerignore
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const { globalArgs, stages } = parseDockerfile(dockerfile);
const stage = (name: string) => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};

describe('deploy/docker/Dockerfile', () => {
  it('builds in stages from a Node 20 slim image, the runtime last', () => {
    expect(stages.map((s) => s.name)).toEqual(['deps', 'build', 'prod-deps', 'runtime']);
    const nodeImage = globalArgs.find(
      (a) => a.keyword === 'ARG' && a.args.startsWith('NODE_IMAGE='),
    );
    expect(nodeImage?.args).toMatch(/^NODE_IMAGE=node:20[-.][\w.-]*slim$/);
    expect(stages.map((s) => s.from)).toEqual([
      '${NODE_IMAGE}',
      'deps',
      '${NODE_IMAGE}',
      '${NODE_IMAGE}',
    ]);
  });

  it('compiles with tsc and postbuild.js in the build stage', () => {
    const runs = stage('build').instructions.filter((i) => i.keyword === 'RUN');
    expect(runs.map((r) => r.args)).toEqual([
      'npx tsc -p deploy/docker/tsconfig.build.json && node deploy/docker/postbuild.js dist',
    ]);
    expect(stage('deps').instructions.find((i) => i.keyword === 'RUN')?.args).toMatch(/npm ci\b/);
  });

  it('ships only production dependencies and the compiled dist/ in the runtime', () => {
    expect(stage('prod-deps').instructions.find((i) => i.keyword === 'RUN')?.args).toMatch(
      /npm ci --omit=dev/,
    );
    const copies = stage('runtime')
      .instructions.filter((i) => i.keyword === 'COPY')
      .map((i) => i.args);
    expect(copies).toEqual([
      '--from=prod-deps /app/node_modules ./node_modules',
      '--from=build /app/dist ./dist',
      'package.json ./',
    ]);
  });

  it('runs as a numeric non-root user, production settings, no HEALTHCHECK', () => {
    const runtime = stage('runtime').instructions;
    const user = runtime.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(user).toHaveLength(1);
    const [uid, gid] = user[0].split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    // The pods' runAsUser is the image's user.
    const deployment = loadK8sFile(
      join(DEPLOY_DIR, 'k8s', 'base', 'services', 'webhook-ingress.yaml'),
    )[0];
    expect(
      (deployment.spec as { template: { spec: { securityContext: { runAsUser: number } } } })
        .template.spec.securityContext.runAsUser,
    ).toBe(uid);
    const env = runtime.find((i) => i.keyword === 'ENV')?.args ?? '';
    expect(env).toMatch(/NODE_ENV=production/);
    expect(env).toMatch(/HOST=0\.0\.0\.0/);
    expect(stages.flatMap((s) => s.instructions).some((i) => i.keyword === 'HEALTHCHECK')).toBe(
      false,
    );
    expect(runtime.find((i) => i.keyword === 'CMD')?.args).toBe(
      '["node", "--enable-source-maps", "dist/main.js"]',
    );
    expect(runtime.find((i) => i.keyword === 'RUN')?.args).toContain(
      'ln -s "apps/${SERVICE}/src/main.js" dist/main.js',
    );
  });

  it('copies sources that exist and that the .dockerignore lets through', () => {
    const sources = stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.sort()).toEqual(
      [
        'package.json',
        'package-lock.json',
        'package.json',
        'package-lock.json',
        'package.json',
        'tsconfig.base.json',
        'apps',
        'libs',
        'tools/db',
        'deploy/docker/tsconfig.build.json',
        'deploy/docker/postbuild.js',
      ].sort(),
    );
    for (const source of sources) {
      expect([source, existsSync(join(REPO_ROOT, source))]).toEqual([source, true]);
      expect([source, ignored(source, ignorePatterns)]).toEqual([source, false]);
    }
    // What must stay out of the context does.
    for (const path of [
      'node_modules/typescript/package.json',
      'apps/webhook-ingress/node_modules/x',
      '.git/HEAD',
      '.dev/state.json',
      'apps/webhook-ingress/src/webhook-ingress.integration-spec.ts',
      'libs/config/src/load-config.spec.ts',
      'tools/dev/start.ts',
      'deploy/k8s/base/kustomization.yaml',
      'dist/main.js',
    ]) {
      expect([path, ignored(path, ignorePatterns)]).toEqual([path, true]);
    }
    expect(ignored('tools/db/migrate.ts', ignorePatterns)).toBe(false);
    expect(ignored('apps/tenant-registry/src/grpc/tenant_admin.proto', ignorePatterns)).toBe(false);
  });

  it('has one bake target per service, and the manifests use those images', () => {
    const bake = readFileSync(join(DOCKER_DIR, 'docker-bake.hcl'), 'utf8');
    const targets = [
      ...bake.matchAll(/target "([a-z-]+)" \{[^}]*args\s*=\s*\{ SERVICE = "([a-z-]+)" \}/g),
    ];
    expect(targets.map((m) => [m[1], m[2]])).toEqual(SERVICES.map((s) => [s.name, s.name]));
    const images = resourceFiles(join(DEPLOY_DIR, 'k8s', 'base'))
      .flatMap(loadK8sFile)
      .flatMap((o) => JSON.stringify(o).match(/"image":"tep\/[a-z-]+:/g) ?? [])
      .map((m) => m.slice('"image":"tep/'.length, -1));
    expect(new Set(images)).toEqual(new Set(SERVICES.map((s) => s.name)));
  });
});

describe('the production build (tsc + postbuild.js), run into a scratch dist/', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tep-build-'));
  const dist = join(scratch, 'dist');

  beforeAll(() => {
    execFileSync(
      process.execPath,
      [
        join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(DOCKER_DIR, 'tsconfig.build.json'),
        '--outDir',
        dist,
      ],
      { cwd: REPO_ROOT, stdio: 'pipe' },
    );
    execFileSync(process.execPath, [join(DOCKER_DIR, 'postbuild.js'), dist], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
  }, 180_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function files(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
    );
  }

  it('emits every service entry point and the migration, but no specs or test harness', () => {
    for (const { name } of SERVICES) {
      expect(existsSync(join(dist, 'apps', name, 'src', 'main.js'))).toBe(true);
    }
    expect(existsSync(join(dist, 'tools', 'db', 'migrate.js'))).toBe(true);
    const emitted = files(dist).map((f) => relative(dist, f));
    expect(emitted.filter((f) => /spec\.js$|^libs\/testing\/|^tools\/(?!db\/)/.test(f))).toEqual(
      [],
    );
    expect(
      existsSync(join(dist, 'apps', 'tenant-registry', 'src', 'grpc', 'tenant_admin.proto')),
    ).toBe(true);
  });

  it('resolves each @tep/* alias to the compiled library, from inside dist/', () => {
    const { compilerOptions } = JSON.parse(
      readFileSync(join(REPO_ROOT, 'tsconfig.base.json'), 'utf8'),
    ) as { compilerOptions: { paths: Record<string, string[]> } };
    const libraries = Object.entries(compilerOptions.paths).filter(
      ([, [target]]) => target.startsWith('libs/') && !target.startsWith('libs/testing/'),
    );
    expect(libraries.length).toBeGreaterThanOrEqual(8);
    // In a separate Node process (jest's own resolver would apply the
    // tsconfig paths), with the repository's node_modules for third-party packages.
    const entry = join(dist, 'apps', 'webhook-ingress', 'src');
    const script = `
      const aliases = ${JSON.stringify(libraries.map(([alias]) => alias))};
      const resolved = Object.fromEntries(aliases.map((a) => [a, require.resolve(a, { paths: [${JSON.stringify(entry)}] })]));
      const config = require(resolved['@tep/config']);
      console.log(JSON.stringify({ resolved, ingressPort: config.PLATFORM_DEFAULTS.ports['webhook-ingress'] }));
    `;
    const out = JSON.parse(
      execFileSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        env: { ...process.env, NODE_PATH: join(REPO_ROOT, 'node_modules') },
      }),
    ) as { resolved: Record<string, string>; ingressPort: number };
    for (const [alias, [target]] of libraries) {
      expect([alias, relative(dist, out.resolved[alias])]).toEqual([
        alias,
        target.replace(/\.ts$/, '.js'),
      ]);
    }
    expect(out.ingressPort).toBe(8080);
  });

  it('requires only Node built-ins, @tep/* and production dependencies at run time', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const builtins = new Set(builtinModules);
    const required = new Set<string>();
    for (const file of files(dist).filter(
      (f) => f.endsWith('.js') && !f.includes('node_modules'),
    )) {
      for (const m of readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
        const spec = m[1];
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        const name = spec.startsWith('@')
          ? spec.split('/').slice(0, 2).join('/')
          : spec.split('/')[0];
        required.add(name);
      }
    }
    expect(required.size).toBeGreaterThan(10);
    const missing = [...required].filter((n) => !n.startsWith('@tep/') && !(n in pkg.dependencies));
    expect(missing).toEqual([]);
  });
});
