import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { UsageError } from './errors';
import {
  assertSlug,
  premiumManifests,
  removeManifests,
  renderManifestFile,
  tenantSlug,
  writeManifests,
} from './manifests';

const TENANT = '550e8400-e29b-41d4-a716-446655440000';

/** Every object as kubectl would read it back from the written YAML. */
function parsedObjects(): Record<string, any>[] {
  return premiumManifests({ slug: 'acmecorp', tenantId: TENANT }).flatMap((file) =>
    parseAllDocuments(renderManifestFile(file)).map((d) => d.toJS()),
  );
}
const byKind = (kind: string) => parsedObjects().find((o) => o.kind === kind);

describe('premium manifests (runbook step 3.3)', () => {
  it('3.3a: namespace tenant-<slug> labelled with the tenant id and tier=premium', () => {
    expect(byKind('Namespace')).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'tenant-acmecorp', labels: { 'tenant-id': TENANT, tier: 'premium' } },
    });
  });

  it('3.3b: service account, read-only role and its binding', () => {
    expect(byKind('ServiceAccount')).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'tenant-acmecorp-sa', namespace: 'tenant-acmecorp' },
    });
    expect(byKind('Role')).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'tenant-worker-role', namespace: 'tenant-acmecorp' },
      rules: [
        {
          apiGroups: [''],
          resources: ['pods', 'services', 'configmaps', 'secrets'],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    });
    expect(byKind('RoleBinding')).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'tenant-worker-rolebinding', namespace: 'tenant-acmecorp' },
      subjects: [
        { kind: 'ServiceAccount', name: 'tenant-acmecorp-sa', namespace: 'tenant-acmecorp' },
      ],
      roleRef: { kind: 'Role', name: 'tenant-worker-role', apiGroup: 'rbac.authorization.k8s.io' },
    });
  });

  it('3.3c: the network policy exactly as the runbook writes it', () => {
    expect(byKind('NetworkPolicy')).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'tenant-isolation', namespace: 'tenant-acmecorp' },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { name: 'ingress-nginx' } } }] }],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { name: 'kube-system' } } }],
            ports: [{ protocol: 'UDP', port: 53 }],
          },
          {
            to: [{ podSelector: { matchLabels: { app: 'postgres' } } }],
            ports: [{ protocol: 'TCP', port: 5432 }],
          },
          {
            to: [{ podSelector: { matchLabels: { app: 'redis' } } }],
            ports: [{ protocol: 'TCP', port: 6379 }],
          },
          { to: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: 443 }] },
        ],
      },
    });
  });

  it('3.3d: the resource quota with quoted CPU and count values', () => {
    expect(byKind('ResourceQuota')).toEqual({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'tenant-quota', namespace: 'tenant-acmecorp' },
      spec: {
        hard: {
          'requests.cpu': '4',
          'requests.memory': '8Gi',
          'limits.cpu': '8',
          'limits.memory': '16Gi',
          pods: '10',
          services: '5',
          persistentvolumeclaims: '2',
        },
      },
    });
    // Quantities must stay strings in YAML ("4", not 4).
    const quota = premiumManifests({ slug: 'acmecorp', tenantId: TENANT }).at(-1)!;
    expect(renderManifestFile(quota)).toContain(`requests.cpu: "4"`);
  });

  it('puts the namespace first so `kubectl apply -f` in order creates it before its contents', () => {
    const files = premiumManifests({ slug: 'acmecorp', tenantId: TENANT });
    expect(files.map((f) => f.file)).toEqual([
      'tenant-namespace.yaml',
      'tenant-rbac.yaml',
      'tenant-network-policy.yaml',
      'tenant-resource-quota.yaml',
    ]);
  });
});

describe('tenant slugs', () => {
  it('derives a DNS label from the company name', () => {
    expect(tenantSlug('Acme Corp MSP')).toBe('acme-corp-msp');
    expect(tenantSlug('  Ünïcode & Co.  ')).toBe('unicode-co');
    expect(`tenant-${tenantSlug('x'.repeat(200))}`.length).toBeLessThanOrEqual(63);
    expect(() => tenantSlug('!!!')).toThrow(UsageError);
  });

  it('refuses a --slug that is not a DNS label', () => {
    expect(assertSlug('acmecorp')).toBe('acmecorp');
    expect(() => assertSlug('Acme_Corp')).toThrow(UsageError);
    expect(() => assertSlug('-acme')).toThrow(UsageError);
  });
});

describe('writing manifests', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tep-manifests-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one file per runbook file and rollback removes exactly the directories it created', async () => {
    const target = join(dir, 'tenants', 'acmecorp');
    const { paths, removable } = await writeManifests(
      target,
      premiumManifests({ slug: 'acmecorp', tenantId: TENANT }),
    );
    // ./tenants did not exist either: rollback removes it too, and nothing above it.
    expect(removable).toBe(join(dir, 'tenants'));
    expect((await readdir(target)).sort()).toEqual([
      'tenant-namespace.yaml',
      'tenant-network-policy.yaml',
      'tenant-rbac.yaml',
      'tenant-resource-quota.yaml',
    ]);
    expect(await readFile(paths[0], 'utf8')).toContain(
      'tenant-id: 550e8400-e29b-41d4-a716-446655440000',
    );
    await removeManifests(removable);
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes only the given directory when it existed (empty) before', async () => {
    const target = join(dir, 'existing');
    await mkdir(target);
    const { removable } = await writeManifests(
      target,
      premiumManifests({ slug: 'acmecorp', tenantId: TENANT }),
    );
    expect(removable).toBe(target);
  });

  it('refuses a directory that already holds files, so rollback never deletes foreign files', async () => {
    await writeFile(join(dir, 'operator-notes.txt'), 'keep me');
    await expect(
      writeManifests(dir, premiumManifests({ slug: 'acmecorp', tenantId: TENANT })),
    ).rejects.toThrow(UsageError);
    expect(await readdir(dir)).toEqual(['operator-notes.txt']);
  });
});
