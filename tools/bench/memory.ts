/**
 * Part 4: memory. Each service's resident set (VmRSS) idle — started,
 * connected, tenants loaded, nothing processed — both as `npm start` runs
 * it (TypeScript through the SWC loader) and as the production image runs
 * it (the build of deploy/docker/tsconfig.build.json, plain node), with
 * the V8 heap figures from each /metrics, and two floors for scale: a bare
 * node process and one that only loads the SWC loader. Peaks under load
 * come from the pipeline part.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchNats, type BenchDatabase } from './lib/environment';
import { ALL_SERVICES, createTenant, startPlatform, type ServiceName } from './lib/platform';
import { RESULTS_DIR, ROOT, rssMiB, sleep } from './lib/processes';

export interface ServiceMemory {
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
}

export interface MemoryReport {
  idleSeconds: number;
  /** As `npm start` runs the services (SWC loader, TypeScript compiled at start). */
  source: Record<ServiceName, ServiceMemory>;
  /** As the production image runs them; absent when the build is not available. */
  compiled?: Record<ServiceName, ServiceMemory>;
  compiledNote: string;
  floors: { bareNodeMiB: number; nodeWithSwcLoaderMiB: number };
}

const BUILD_CONFIG = 'deploy/docker/tsconfig.build.json';
const POSTBUILD = 'deploy/docker/postbuild.js';

async function scrape(url: string): Promise<Omit<ServiceMemory, 'rssMiB'>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const metric = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) / 2 ** 20 : Number.NaN;
  };
  return {
    heapUsedMiB: metric('nodejs_heap_size_used_bytes'),
    heapTotalMiB: metric('nodejs_heap_size_total_bytes'),
    externalMiB: metric('nodejs_external_memory_bytes'),
  };
}

async function idleMemory(
  db: BenchDatabase,
  logDir: string,
  idleSeconds: number,
  compiledDir?: string,
): Promise<Record<ServiceName, ServiceMemory>> {
  const nats = await benchNats('memory');
  const platform = await startPlatform(ALL_SERVICES, {
    namespace: nats.namespace,
    appUrl: db.appUrl,
    posterUrl: db.posterUrl,
    registryUrl: db.registryUrl,
    logDir,
    compiledDir,
  });
  try {
    await createTenant(platform.get('tenant-registry').url, {
      name: 'Bench memory tenant',
      servicedesk_url: 'http://127.0.0.1:9/',
      servicedesk_api_key: 'bench-sdp-key',
    });
    await sleep(idleSeconds * 1000);
    const result = {} as Record<ServiceName, ServiceMemory>;
    for (const name of ALL_SERVICES) {
      const service = platform.get(name);
      result[name] = { rssMiB: rssMiB(service.proc.pid), ...(await scrape(service.url)) };
    }
    return result;
  } finally {
    await platform.stop();
    await nats.cleanup();
  }
}

/** RSS of a process that does nothing: bare node, or node with the SWC loader. */
async function floor(withLoader: boolean): Promise<number> {
  const args = withLoader
    ? ['-r', './tools/register.js', 'tools/bench/lib/idle.ts']
    : ['-e', 'setInterval(() => {}, 1 << 30)'];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  await sleep(2000);
  const rss = rssMiB(child.pid!);
  child.kill('SIGKILL');
  return rss;
}

export async function benchMemory(
  db: BenchDatabase,
  options: { logDir: string; idleSeconds: number },
): Promise<MemoryReport> {
  const source = await idleMemory(db, join(options.logDir, 'source'), options.idleSeconds);
  let compiled: Record<ServiceName, ServiceMemory> | undefined;
  let compiledNote: string;
  if (existsSync(join(ROOT, BUILD_CONFIG)) && existsSync(join(ROOT, POSTBUILD))) {
    const distDir = join(RESULTS_DIR, 'dist');
    rmSync(distDir, { recursive: true, force: true });
    const tsc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', BUILD_CONFIG, '--outDir', distDir],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const post =
      tsc.status === 0
        ? spawnSync(process.execPath, [POSTBUILD, distDir], { cwd: ROOT, encoding: 'utf8' })
        : undefined;
    if (tsc.status === 0 && post?.status === 0) {
      compiled = await idleMemory(
        db,
        join(options.logDir, 'compiled'),
        options.idleSeconds,
        'tools/bench/results/dist',
      );
      compiledNote = `built with ${BUILD_CONFIG} + ${POSTBUILD} into tools/bench/results/dist`;
    } else {
      compiledNote = `production build failed: ${(tsc.stdout + tsc.stderr + (post?.stderr ?? '')).slice(0, 500)}`;
    }
  } else {
    compiledNote = `${BUILD_CONFIG} not found: production build not measured`;
  }
  return {
    idleSeconds: options.idleSeconds,
    source,
    compiled,
    compiledNote,
    floors: {
      bareNodeMiB: await floor(false),
      nodeWithSwcLoaderMiB: await floor(true),
    },
  };
}
