import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileArgs, findOnPath, runKubectl } from './kubectl';

describe('kubectl', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tep-kubectl-'));
    // A stand-in kubectl that records its arguments and fails on "fail".
    await writeFile(
      join(dir, 'kubectl'),
      `#!/bin/sh\necho "$@" >> "${join(dir, 'calls.log')}"\nif [ "$1" = fail ]; then echo "boom" >&2; exit 4; fi\necho "applied $#"\n`,
    );
    await chmod(join(dir, 'kubectl'), 0o755);
    await writeFile(join(dir, 'not-executable'), '');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is found only when executable on PATH', () => {
    expect(findOnPath('kubectl', `/nonexistent:${dir}`)).toBe(join(dir, 'kubectl'));
    expect(findOnPath('not-executable', dir)).toBeUndefined();
    expect(findOnPath('kubectl', '/nonexistent')).toBeUndefined();
  });

  it('passes the files in order and reports exit code and stderr', async () => {
    const kubectl = join(dir, 'kubectl');
    const ok = await runKubectl(kubectl, ['apply', ...fileArgs(['/m/a.yaml', '/m/b.yaml'])]);
    expect(ok).toEqual({ code: 0, stdout: 'applied 5\n', stderr: '' });
    const failed = await runKubectl(kubectl, ['fail']);
    expect(failed.code).toBe(4);
    expect(failed.stderr).toContain('boom');
    expect(await readFile(join(dir, 'calls.log'), 'utf8')).toBe(
      'apply -f /m/a.yaml -f /m/b.yaml\nfail\n',
    );
  });
});
