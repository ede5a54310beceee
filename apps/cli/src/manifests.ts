/**
 * A Premium tenant's Kubernetes manifests — the runbook's step 3.3 values,
 * one file per runbook file (3.3a–d), written for review and applied only
 * when asked. No secret ever goes into them: credentials stay
 * Fernet-encrypted in the registry.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { UsageError } from './errors';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

export interface ManifestFile {
  /** Applied in this order: the namespace first. */
  file: string;
  comment: string;
  objects: K8sObject[];
}

/** "Acme Corp MSP" → "acme-corp-msp": a DNS label that leaves room for the "tenant-" prefix. */
export function tenantSlug(companyName: string): string {
  const slug = companyName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - 'tenant-'.length - 3)
    .replace(/-+$/, '');
  if (!slug)
    throw new UsageError(`cannot derive a namespace name from "${companyName}"; pass --slug`);
  return slug;
}

export function assertSlug(slug: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,51}[a-z0-9])?$/.test(slug)) {
    throw new UsageError(
      `--slug "${slug}" must be lower-case letters, digits and "-" (at most 53 characters)`,
    );
  }
  return slug;
}

export function namespaceName(slug: string): string {
  return `tenant-${slug}`;
}

export function premiumManifests(options: { slug: string; tenantId: string }): ManifestFile[] {
  const ns = namespaceName(options.slug);
  const serviceAccount = `${ns}-sa`;
  return [
    {
      file: 'tenant-namespace.yaml',
      comment: 'Runbook step 3.3a: dedicated namespace, labelled for tenant tracking.',
      objects: [
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: ns, labels: { 'tenant-id': options.tenantId, tier: 'premium' } },
        },
      ],
    },
    {
      file: 'tenant-rbac.yaml',
      comment: 'Runbook step 3.3b: RBAC policies.',
      objects: [
        {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: serviceAccount, namespace: ns },
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'tenant-worker-role', namespace: ns },
          rules: [
            {
              apiGroups: [''],
              resources: ['pods', 'services', 'configmaps', 'secrets'],
              verbs: ['get', 'list', 'watch'],
            },
          ],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'tenant-worker-rolebinding', namespace: ns },
          subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace: ns }],
          roleRef: {
            kind: 'Role',
            name: 'tenant-worker-role',
            apiGroup: 'rbac.authorization.k8s.io',
          },
        },
      ],
    },
    {
      file: 'tenant-network-policy.yaml',
      comment:
        'Runbook step 3.3c: network policy, the runbook values as written. The platform queues with NATS JetStream (TCP 4222), not Redis: add an egress rule for NATS if workloads in this namespace use it.',
      objects: [
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'tenant-isolation', namespace: ns },
          spec: {
            podSelector: {},
            policyTypes: ['Ingress', 'Egress'],
            ingress: [
              { from: [{ namespaceSelector: { matchLabels: { name: 'ingress-nginx' } } }] },
            ],
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
        },
      ],
    },
    {
      file: 'tenant-resource-quota.yaml',
      comment: 'Runbook step 3.3d: resource quota.',
      objects: [
        {
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          metadata: { name: 'tenant-quota', namespace: ns },
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
        },
      ],
    },
  ];
}

export function renderManifestFile(file: ManifestFile): string {
  const header = `# ${file.comment}\n# Generated by \`tep onboard\`.\n`;
  return header + file.objects.map((o) => `---\n${stringify(o)}`).join('');
}

export interface WrittenManifests {
  paths: string[];
  /**
   * What rollback removes: the outermost directory this call created (e.g.
   * ./tenants when it did not exist), else `dir` itself.
   */
  removable: string;
}

/**
 * Writes the files into `dir`, which must not exist or be empty: rollback
 * removes the whole directory, so it must never hold anything we did not write.
 */
export async function writeManifests(
  dir: string,
  files: readonly ManifestFile[],
): Promise<WrittenManifests> {
  await assertManifestsDirUsable(dir);
  const created = await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const file of files) {
    const path = join(dir, file.file);
    await writeFile(path, renderManifestFile(file), { flag: 'wx' });
    paths.push(path);
  }
  return { paths, removable: created ?? dir };
}

/** Checked before anything is created, so a bad --manifests-dir changes nothing. */
export async function assertManifestsDirUsable(dir: string): Promise<void> {
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new UsageError(
      `manifests directory ${dir} exists and is not empty; choose another --manifests-dir`,
    );
  }
}

export async function removeManifests(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
