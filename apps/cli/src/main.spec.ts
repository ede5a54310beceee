import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './main';
import { memoryIo } from './output';

const ROOT = join(__dirname, '..', '..', '..');

/** A port that was just free: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function unreachableEnv(): Promise<NodeJS.ProcessEnv> {
  const port = await closedPort();
  return {
    TEP_REGISTRY_URL: `http://127.0.0.1:${port}`,
    TEP_INGRESS_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: `postgres://tep_app:tep_app@127.0.0.1:${port}/ai_agents`,
    NATS_URL: `nats://127.0.0.1:${port}`,
  };
}

describe('tep command line', () => {
  it('prints help and exits 0', async () => {
    const io = memoryIo();
    expect(await runCli(['--help'], io, {})).toBe(0);
    expect(io.out()).toContain('Usage: tep [options] [command]');
    expect(io.out()).toContain('Exit codes: 0 ok, 1 a check or validation failed');
  });

  it('exits 2 on a usage error and names it', async () => {
    const io = memoryIo();
    expect(await runCli(['frobnicate'], io, {})).toBe(2);
    expect(io.err()).toContain("unknown command 'frobnicate'");
    const io2 = memoryIo();
    expect(
      await runCli(
        ['rotate-secret', '550e8400-e29b-41d4-a716-446655440000', '--grace-seconds', 'soon'],
        io2,
        {},
      ),
    ).toBe(2);
    expect(io2.err()).toContain('--grace-seconds must be a whole number');
  });

  it('with --json, prints exactly one JSON document even for a refused argument', async () => {
    const io = memoryIo();
    expect(await runCli(['offboard', 'not-a-uuid', '--json'], io, {})).toBe(2);
    expect(JSON.parse(io.out())).toEqual({
      command: 'offboard',
      ok: false,
      exit_code: 2,
      error: '"not-a-uuid" is not a tenant id (a UUID)',
    });
  });

  it('checks the client information before contacting anything', async () => {
    const io = memoryIo();
    const code = await runCli(['onboard', '--json', '--name', 'Acme'], io, await unreachableEnv());
    expect(code).toBe(2);
    const doc = JSON.parse(io.out()) as { error: string };
    expect(doc.error).toContain('servicedesk_url');
    expect(doc.error).toContain('servicedesk_api_key');
  });

  it('status --json reports every unreachable part and exits 3', async () => {
    const io = memoryIo();
    const code = await runCli(['status', '--json'], io, await unreachableEnv());
    expect(code).toBe(3);
    const doc = JSON.parse(io.out()) as Record<string, any>;
    expect(doc).toMatchObject({
      command: 'status',
      exit_code: 3,
      since_hours: 24,
      tenants: [],
      queue_depth: [],
      dead_letters: { total: null },
    });
    expect(Object.keys(doc['errors'] as object).sort()).toEqual(['nats', 'registry']);
    expect(doc['errors'].registry).toContain('ECONNREFUSED');
    // Errors are for humans on stderr; stdout stays parseable.
    expect(io.err()).toContain('registry: tenant registry unreachable');
  });

  it('runs as a program: `node -r ./tools/register.js apps/cli/src/main.ts` exits with the code', async () => {
    const result = spawnSync(
      process.execPath,
      ['-r', './tools/register.js', 'apps/cli/src/main.ts', 'doctor', '--json'],
      {
        cwd: ROOT,
        env: { ...process.env, ...(await unreachableEnv()) },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(result.status).toBe(3);
    const doc = JSON.parse(result.stdout) as { prerequisites: { name: string; status: string }[] };
    expect(doc.prerequisites.every((p) => p.status === 'failed')).toBe(true);
    expect(doc.prerequisites.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'PostgreSQL reachable',
        'NATS reachable with JetStream',
        'tenant-registry /health',
      ]),
    );
  }, 30_000);

  it('runs as the installed bin (`npx tep`, `npm run tep`): apps/cli/bin/tep.js', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'apps', 'cli', 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ tep: 'bin/tep.js' });
    const result = spawnSync(
      process.execPath,
      [join(ROOT, 'apps', 'cli', pkg.bin['tep']), '--help'],
      {
        cwd: tmpdir(),
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: tep /);
    expect(result.stdout).toContain('onboard');
  }, 30_000);
});
