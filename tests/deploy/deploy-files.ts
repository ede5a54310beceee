/**
 * Loading what deploy/ holds, for the deploy checks: YAML documents, the
 * kustomize base's resource files, rendered overlays, external tools.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

export const REPO_ROOT = join(__dirname, '..', '..');
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');
export const K8S_DIR = join(DEPLOY_DIR, 'k8s');

/** The five services, their ports (README "Services") and their kind of autoscaling. */
export const SERVICES = [
  { name: 'webhook-ingress', port: 8080, role: 'api' },
  { name: 'tenant-registry', port: 8081, role: 'api' },
  { name: 'context-gatherer', port: 8082, role: 'worker' },
  { name: 'llm-synthesizer', port: 8083, role: 'worker' },
  { name: 'servicedesk-poster', port: 8084, role: 'worker' },
] as const;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** `apiVersion/kind/name`, the way the checks name an object. */
export function objectId(object: K8sObject): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata.name}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every non-empty document of a YAML stream; YAML errors throw with the source named. */
export function parseYamlStream(text: string, source: string): unknown[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) {
        throw new Error(`${source}: ${document.errors.map((e) => e.message).join('; ')}`);
      }
      return document.toJS() as unknown;
    })
    .filter((value) => value !== null && value !== undefined);
}

export function readYaml(path: string): unknown {
  return parseYaml(readFileSync(path, 'utf8')) as unknown;
}

/** Parses a stream of Kubernetes objects; each must have apiVersion, kind and metadata.name. */
export function parseK8sObjects(text: string, source: string): K8sObject[] {
  return parseYamlStream(text, source).map((value, index) => {
    const metadata = isRecord(value) ? value.metadata : undefined;
    if (
      !isRecord(value) ||
      typeof value.apiVersion !== 'string' ||
      typeof value.kind !== 'string' ||
      !isRecord(metadata) ||
      typeof metadata.name !== 'string'
    ) {
      throw new Error(`${source}: document ${index + 1} is not a Kubernetes object`);
    }
    return value as K8sObject;
  });
}

export function loadK8sFile(path: string): K8sObject[] {
  return parseK8sObjects(readFileSync(path, 'utf8'), relative(REPO_ROOT, path));
}

interface Kustomization {
  resources?: string[];
  components?: string[];
  configMapGenerator?: { name: string; envs?: string[]; files?: string[] }[];
}

export function readKustomization(dir: string): Kustomization {
  return readYaml(join(dir, 'kustomization.yaml')) as Kustomization;
}

/**
 * The resource files a kustomization lists, following directories that are
 * kustomizations themselves. Patches and generators are not applied: this is
 * what can be checked without a kustomize binary.
 */
export function resourceFiles(dir: string): string[] {
  return (readKustomization(dir).resources ?? []).flatMap((entry) => {
    const path = join(dir, entry);
    return existsSync(join(path, 'kustomization.yaml')) ? resourceFiles(path) : [path];
  });
}

/** Parses a KEY=value env file as kustomize's configMapGenerator `envs` does. */
export function parseEnvFile(path: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new Error(`${path}: not KEY=value: ${trimmed}`);
    entries[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return entries;
}

/** Absolute path of an executable on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export type KustomizeRenderer = (dir: string) => string;

/** `kubectl kustomize` (kustomize is built into kubectl) or a standalone `kustomize build`. */
export function findKustomize(): { tool: string; render: KustomizeRenderer } | undefined {
  const kubectl = findExecutable('kubectl');
  if (kubectl) {
    return {
      tool: 'kubectl kustomize',
      render: (dir) =>
        execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', stdio: 'pipe' }),
    };
  }
  const kustomize = findExecutable('kustomize');
  if (kustomize) {
    return {
      tool: 'kustomize build',
      render: (dir) => execFileSync(kustomize, ['build', dir], { encoding: 'utf8', stdio: 'pipe' }),
    };
  }
  return undefined;
}

/**
 * Renders an overlay with extra components (as an operator would enable them
 * in the overlay's kustomization), through a throwaway kustomization.
 */
export function renderWithComponents(
  render: KustomizeRenderer,
  overlayDir: string,
  componentDirs: string[],
  namespace: string,
): string {
  const scratch = mkdtempSync(join(tmpdir(), 'tep-kustomize-'));
  try {
    // kustomize refuses absolute paths: refer to the repository relatively.
    const rel = (path: string) => relative(scratch, path);
    writeFileSync(
      join(scratch, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `namespace: ${namespace}`,
        'resources:',
        `  - ${rel(overlayDir)}`,
        'components:',
        ...componentDirs.map((dir) => `  - ${rel(dir)}`),
        '',
      ].join('\n'),
    );
    return render(scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
