/**
 * deploy/k8s: every manifest validates against the Kubernetes API schemas,
 * and the properties the platform relies on hold (probes on /livez and
 * /readyz, a database credential only where a database is used, resources, non-root, a PDB and an HPA per service, default-deny network
 * policies, a JetStream cluster of three with R3 and fsync always, PgBouncer in
 * transaction mode between the services and PostgreSQL, sized within
 * max_connections).
 *
 * The base's resource files are checked as they are (no kustomize needed);
 * the overlays are rendered with `kubectl kustomize` (or `kustomize build`)
 * when one is on PATH, and skipped visibly otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Client } from 'pg';
import { usesDatabase } from '@tep/config';
import { createTopology } from '@tep/contracts';
import { NATS_USERS, natsPasswordVariable, renderNatsAuthorization } from '@tep/pipeline';
import { makeCertificates } from '../security/secure-nats';
import {
  K8S_DIR,
  SERVICES,
  findExecutable,
  findKustomize,
  loadK8sFile,
  objectId,
  parseEnvFile,
  parseK8sObjects,
  readKustomization,
  renderWithComponents,
  resourceFiles,
  type K8sObject,
} from './deploy-files';
import { UNVALIDATED_KINDS, validateObject } from './k8s-models';
import {
  parseConnectString,
  parsePgBouncerIni,
  pgBouncerVersion,
  userlistNames,
  withPgBouncer,
} from './pgbouncer';

const BASE = join(K8S_DIR, 'base');
const OVERLAYS = ['production', 'staging'] as const;
const SECRET_TEMPLATES = [
  join(K8S_DIR, 'secrets', 'tep-secrets.template.yaml'),
  join(K8S_DIR, 'secrets', 'tep-migration-secrets.template.yaml'),
  join(K8S_DIR, 'secrets', 'tep-nats-users.template.yaml'),
  join(K8S_DIR, 'secrets', 'tep-pgbouncer.template.yaml'),
];
/** Secrets the manifests use that are created out of band, not from a template. */
const OUT_OF_BAND_SECRETS: Record<string, string> = {
  'nats-tls': 'certificates (cert-manager or openssl), deploy/README.md',
};
const WORKERS = SERVICES.filter((s) => s.role === 'worker').map((s) => s.name);
const APIS = SERVICES.filter((s) => s.role === 'api').map((s) => s.name);
/** The services whose config reads DATABASE_URL (@tep/config): not the ingress. */
const WITH_DATABASE = SERVICES.filter((s) => usesDatabase(s.name)).map((s) => s.name);

function ofKind<T>(objects: K8sObject[], kind: string): (K8sObject & T)[] {
  return objects.filter((o) => o.kind === kind) as (K8sObject & T)[];
}

function named<T extends K8sObject>(objects: T[], name: string): T {
  const found = objects.find((o) => o.metadata.name === name);
  if (!found) throw new Error(`no ${name} among ${objects.map((o) => o.metadata.name).join(', ')}`);
  return found;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label selector semantics (an empty selector selects everything). */
function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    switch (e.operator) {
      case 'In':
        return e.values?.includes(labels[e.key]) ?? false;
      case 'NotIn':
        return !(e.values?.includes(labels[e.key]) ?? false);
      case 'Exists':
        return e.key in labels;
      case 'DoesNotExist':
        return !(e.key in labels);
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  });
  return byLabels && byExpressions;
}

interface Workload {
  name: string;
  kind: string;
  template: IPodTemplateSpec;
}

function workloads(objects: K8sObject[]): Workload[] {
  return [
    ...ofKind<IDeployment>(objects, 'Deployment'),
    ...ofKind<IStatefulSet>(objects, 'StatefulSet'),
    ...ofKind<IJob>(objects, 'Job'),
  ].map((o) => ({ name: o.metadata.name, kind: o.kind, template: o.spec!.template }));
}

function podLabels(workload: Workload): Record<string, string> {
  return workload.template.metadata?.labels ?? {};
}

/** Names of the workloads whose pods a NetworkPolicy with a matching rule selects. */
function workloadsAllowed(
  objects: K8sObject[],
  direction: 'ingress' | 'egress',
  rule: (r: {
    ports?: { port?: number | string; protocol?: string }[];
    peers: Record<string, unknown>[];
  }) => boolean,
): string[] {
  const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
  const names = new Set<string>();
  for (const policy of policies) {
    const rules = (direction === 'ingress' ? policy.spec?.ingress : policy.spec?.egress) ?? [];
    const matching = rules.some((r) =>
      rule({
        ports: r.ports,
        peers: ((direction === 'ingress'
          ? (r as { from?: unknown[] }).from
          : (r as { to?: unknown[] }).to) ?? []) as Record<string, unknown>[],
      }),
    );
    if (!matching) continue;
    for (const w of workloads(objects)) {
      if (selects(policy.spec?.podSelector, podLabels(w))) names.add(w.name);
    }
  }
  return [...names].sort();
}

function onPort(port: number) {
  return (r: { ports?: { port?: number | string }[] }) =>
    (r.ports ?? []).some((p) => p.port === port);
}

/** A rule on `port` whose peers include the pods of workload `name` (by app.kubernetes.io/name). */
function toWorkload(port: number, name: string) {
  return (r: { ports?: { port?: number | string }[]; peers: Record<string, unknown>[] }) =>
    onPort(port)(r) &&
    r.peers.some(
      (p) =>
        (p.podSelector as LabelSelector | undefined)?.matchLabels?.['app.kubernetes.io/name'] ===
        name,
    );
}

/** Where the manifests mount a pod's secrets as files (`<NAME>_FILE`, @tep/config). */
const SECRETS_DIR = '/var/run/secrets/tep';

interface SecretUse {
  /** The variable the service reads (`DATABASE_URL`, whether as a file or not). */
  variable: string;
  secret: string;
  key: string;
  optional: boolean;
  asFile: boolean;
}

/**
 * Every secret a container receives: as a file (`<NAME>_FILE` naming a file of
 * the pod's mounted secret volume) or, for an optional one, as a variable.
 */
function secretUses(template: IPodTemplateSpec, container: IContainer): SecretUse[] {
  const files = new Map<string, { secret: string; key: string; optional: boolean }>();
  for (const volume of template.spec?.volumes ?? []) {
    const mount = container.volumeMounts?.find((m) => m.name === volume.name);
    if (!mount) continue;
    for (const source of volume.projected?.sources ?? []) {
      for (const item of source.secret?.items ?? []) {
        files.set(`${mount.mountPath}/${item.path}`, {
          secret: source.secret!.name!,
          key: item.key,
          optional: source.secret!.optional ?? false,
        });
      }
    }
  }
  return (container.env ?? []).flatMap((e): SecretUse[] => {
    const file = e.name.endsWith('_FILE') && e.value ? files.get(e.value) : undefined;
    if (file) return [{ variable: e.name.slice(0, -'_FILE'.length), ...file, asFile: true }];
    const ref = e.valueFrom?.secretKeyRef;
    return ref
      ? [
          {
            variable: e.name,
            secret: ref.name!,
            key: ref.key,
            optional: ref.optional ?? false,
            asFile: false,
          },
        ]
      : [];
  });
}

function secretKeyRefs(objects: K8sObject[]): SecretUse[] {
  return workloads(objects).flatMap((w) =>
    [...(w.template.spec?.containers ?? []), ...(w.template.spec?.initContainers ?? [])].flatMap(
      (c) => secretUses(w.template, c),
    ),
  );
}

function envValue(container: IContainer, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

/** The restricted pod security level, as every workload of ours runs: non-root, no privileges, read-only root. */
function expectRestricted(pod: IPodTemplateSpec, container: IContainer): void {
  expect(pod.spec!.securityContext).toMatchObject({
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  });
  expect(pod.spec!.securityContext!.runAsUser).toBeGreaterThan(0);
  expect(container.securityContext).toEqual({
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  });
  expect(pod.spec!.automountServiceAccountToken).toBe(false);
}

const baseFiles = resourceFiles(BASE);
const baseObjects = baseFiles.flatMap(loadK8sFile);

describe('deploy/k8s base resource files (no kustomize needed)', () => {
  it('lists the files the base consists of, all present', () => {
    expect(baseFiles.map((f) => relative(BASE, f)).sort()).toEqual(
      [
        'ingress.yaml',
        'migration-job.yaml',
        'namespace.yaml',
        'nats/nats.yaml',
        'network-policies.yaml',
        'pgbouncer/pgbouncer.yaml',
        ...SERVICES.map((s) => `services/${s.name}.yaml`),
      ].sort(),
    );
  });

  it('contains the expected objects, each valid against the Kubernetes API schema', () => {
    const counts: Record<string, number> = {};
    for (const o of baseObjects) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
    expect(counts).toEqual({
      Namespace: 1,
      // five services + pgbouncer
      Deployment: 6,
      // five services + nats (clients) + nats-headless (cluster routes) + pgbouncer
      Service: 8,
      // five services + nats + pgbouncer
      PodDisruptionBudget: 7,
      HorizontalPodAutoscaler: 5,
      StatefulSet: 1,
      NetworkPolicy: 11,
      Job: 1,
      Ingress: 2,
    });
    const results = baseObjects.map(validateObject);
    expect(results.filter((r) => r.outcome !== 'valid')).toEqual([]);
    expect(results).toHaveLength(42);
  });

  it('rejects an invalid object (the validation is not a no-op)', () => {
    const deployment = structuredClone(
      named(ofKind<IDeployment>(baseObjects, 'Deployment'), 'webhook-ingress'),
    );
    deployment.spec!.template.spec!.containers[0].ports![0].containerPort = 'http' as never;
    const result = validateObject(deployment);
    expect(result.outcome).toBe('invalid');
    expect(result.outcome === 'invalid' && result.error).toMatch(/containerPort must be integer/);
    expect(
      validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }),
    ).toEqual({
      object: 'example.com/v1/Widget/w',
      outcome: 'invalid',
      error: 'no model for example.com/v1/Widget and no reason to skip it',
    });
  });

  it('names the CRDs it cannot validate, with a reason each', () => {
    for (const [kind, reason] of Object.entries(UNVALIDATED_KINDS)) {
      console.log(`deploy-checks: not schema-validated: ${kind} — ${reason}`);
      expect(reason.length).toBeGreaterThan(20);
    }
    const prometheusRule = validateObject({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'tep' },
    });
    expect(prometheusRule.outcome).toBe('skipped');
  });

  it('labels the shared production namespace (Basic tier) and enforces the restricted pod security level', () => {
    const [namespace] = ofKind<K8sObject>(baseObjects, 'Namespace');
    expect(namespace.metadata.name).toBe('production');
    expect(namespace.metadata.labels).toMatchObject({
      tier: 'basic',
      tenancy: 'shared',
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    expect(readKustomization(BASE)).toMatchObject({ namespace: 'production' });
  });

  describe.each(SERVICES)('$name', ({ name, port, role }) => {
    const deployment = named(ofKind<IDeployment>(baseObjects, 'Deployment'), name);
    const pod = deployment.spec!.template;
    const container = pod.spec!.containers.find((c) => c.name === name)!;

    it('runs one container from its own image, listening on its port', () => {
      expect(pod.spec!.containers).toHaveLength(1);
      expect(container.image).toMatch(new RegExp(`^tep/${name}:`));
      expect(container.ports?.find((p) => p.name === 'http')?.containerPort).toBe(port);
      expect(envValue(container, 'PORT')).toBe(String(port));
      expect(deployment.spec!.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': name });
      expect(pod.metadata?.labels?.['app.kubernetes.io/name']).toBe(name);
    });

    it('probes GET /livez for liveness and startup, GET /readyz for readiness', () => {
      // /livez checks no dependency: an outage of Postgres or NATS never restarts a pod.
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/livez', port: 'http' });
      // The process listens only once connected, so /livez answering means boot finished.
      expect(container.startupProbe?.httpGet).toEqual({ path: '/livez', port: 'http' });
      // /readyz checks every dependency the service uses, and only those.
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      // Boot may take the services' connect timeouts (30 s each for Postgres and NATS).
      const startup = container.startupProbe!;
      expect((startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3)).toBeGreaterThan(60);
      // Liveness is the most patient: a pause on a busy node must not restart a pod.
      const tolerance = (p: typeof container.livenessProbe) =>
        (p?.periodSeconds ?? 10) * (p?.failureThreshold ?? 3);
      expect(tolerance(container.livenessProbe)).toBeGreaterThanOrEqual(120);
      expect(tolerance(container.livenessProbe)).toBeGreaterThan(
        tolerance(container.readinessProbe),
      );
    });

    it('requests and limits CPU and memory', () => {
      const resources = container.resources!;
      expect(Object.keys(resources.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(resources.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
      const mebibytes = (q: string | number) => {
        const m = /^(\d+)(Mi|Gi)$/.exec(String(q));
        if (!m) throw new Error(`unexpected memory quantity ${q}`);
        return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
      };
      expect(mebibytes(resources.requests!.memory)).toBeLessThanOrEqual(
        mebibytes(resources.limits!.memory),
      );
      // The V8 heap cap stays below the container's memory limit.
      const heap = /--max-old-space-size=(\d+)/.exec(envValue(container, 'NODE_OPTIONS') ?? '');
      expect(Number(heap?.[1])).toBeLessThan(mebibytes(resources.limits!.memory));
    });

    it('runs as non-root with a read-only root filesystem and no privileges', () => {
      expectRestricted(pod, container);
      expect(container.volumeMounts?.map((m) => m.mountPath)).toEqual(['/tmp', SECRETS_DIR]);
      expect(container.volumeMounts?.find((m) => m.mountPath === SECRETS_DIR)?.readOnly).toBe(true);
    });

    it('takes settings from the tep-config ConfigMap and secrets as files of a Secret volume', () => {
      expect(container.envFrom).toEqual([{ configMapRef: { name: 'tep-config' } }]);
      const generated = readKustomization(BASE).configMapGenerator?.map((g) => g.name);
      expect(generated).toContain('tep-config');
      // No credentials as literal values.
      for (const e of container.env ?? []) {
        expect(`${e.name}=${e.value ?? ''}`).not.toMatch(/postgres:\/\/|KEY=.+|TOKENS=.+/);
      }
      const uses = secretUses(pod, container);
      const expected: Record<string, string[]> = {
        'webhook-ingress': ['FEEDBACK_TOKEN_KEY', 'TENANT_ENCRYPTION_KEY'],
        'tenant-registry': [
          'ADMIN_TOKENS',
          'DATABASE_URL',
          'SERVICEDESK_CREDENTIAL_KEY',
          'TENANT_ENCRYPTION_KEY',
        ],
        'context-gatherer': ['DATABASE_URL'],
        'llm-synthesizer': ['DATABASE_URL', 'LLM_API_KEY'],
        // SDP credentials under their own key: the ingress's key reads no credential.
        'servicedesk-poster': ['DATABASE_URL', 'FEEDBACK_TOKEN_KEY', 'SERVICEDESK_CREDENTIAL_KEY'],
      };
      expect(uses.map((u) => u.variable).sort()).toEqual(
        [...expected[name], 'NATS_PASSWORD'].sort(),
      );
      // Its own NATS user, and only its own password of the tep-nats-users Secret.
      expect(envValue(container, 'NATS_USER')).toBe(name);
      expect(uses.find((u) => u.variable === 'NATS_PASSWORD')).toMatchObject({
        secret: 'tep-nats-users',
        key: natsPasswordVariable(name),
      });
      // Files, not the environment (where a child process or a crash dump would show
      // them); only an optional secret stays a variable, as a missing file would be an error.
      for (const use of uses)
        expect([use.variable, use.asFile]).toEqual([use.variable, !use.optional]);
      // Group-readable only, through the pod's fsGroup (the process is not root).
      const volume = pod.spec!.volumes!.find((v) => v.projected);
      expect(volume?.projected?.defaultMode).toBe(0o440);
      expect(pod.spec!.securityContext!.fsGroup).toBe(pod.spec!.securityContext!.runAsGroup);
    });

    it(
      usesDatabase(name)
        ? 'gets DATABASE_URL and may reach PgBouncer (not PostgreSQL itself): its config reads one'
        : 'gets no DATABASE_URL, no database secret, no PgBouncer or PostgreSQL egress: it has no database',
      () => {
        const names = secretUses(pod, container).map((u) => u.variable);
        const databaseKeys = secretUses(pod, container)
          .map((u) => u.key)
          .filter((k) => k.startsWith('DATABASE_'));
        if (usesDatabase(name)) {
          expect(names).toContain('DATABASE_URL');
          expect(databaseKeys).toHaveLength(1);
        } else {
          // Neither the variable nor any database secret, by any name.
          expect(
            (container.env ?? []).map((e) => e.name).filter((n) => n.startsWith('DATABASE_')),
          ).toEqual([]);
          expect(databaseKeys).toEqual([]);
          expect(container.envFrom?.some((e) => e.secretRef)).toBeFalsy();
          expect(parseEnvFile(join(BASE, 'platform.env')).DATABASE_URL).toBeUndefined();
        }
        expect(pod.metadata?.labels?.['tep.io/pgbouncer-client']).toBe(
          usesDatabase(name) ? 'true' : undefined,
        );
        // Only PgBouncer and the migration Job talk to PostgreSQL itself.
        expect(pod.metadata?.labels?.['tep.io/postgres-client']).toBeUndefined();
      },
    );

    it('has a Service selecting its pods on its port', () => {
      const service = named(ofKind<IService>(baseObjects, 'Service'), name);
      expect(selects({ matchLabels: service.spec!.selector }, pod.metadata!.labels!)).toBe(true);
      expect(service.spec!.ports!.find((p) => p.name === 'http')).toMatchObject({
        port,
        targetPort: 'http',
      });
    });

    it('has a PodDisruptionBudget selecting its pods', () => {
      const pdb = named(ofKind<IPodDisruptionBudget>(baseObjects, 'PodDisruptionBudget'), name);
      expect(selects(pdb.spec!.selector as LabelSelector, pod.metadata!.labels!)).toBe(true);
      expect(pdb.spec!.maxUnavailable).toBe(1);
      // Only this service's pods.
      const others = workloads(baseObjects).filter(
        (w) => w.name !== name && selects(pdb.spec!.selector as LabelSelector, podLabels(w)),
      );
      expect(others.map((w) => w.name)).toEqual([]);
    });

    it(`scales with a HorizontalPodAutoscaler on ${role === 'api' ? 'CPU' : 'queue depth'}`, () => {
      const hpa = named(
        ofKind<IHorizontalPodAutoscaler>(baseObjects, 'HorizontalPodAutoscaler'),
        name,
      );
      expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa.spec!.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec!.maxReplicas).toBeGreaterThan(hpa.spec!.minReplicas!);
      // The HPA owns the replica count.
      expect(deployment.spec!.replicas).toBeUndefined();
      expect(hpa.spec!.metrics).toHaveLength(1);
      const [metric] = hpa.spec!.metrics!;
      if (role === 'api') {
        expect(metric.type).toBe('Resource');
        expect(metric.resource).toMatchObject({ name: 'cpu', target: { type: 'Utilization' } });
      } else {
        expect(metric.type).toBe('External');
        expect(metric.external!.metric).toEqual({
          name: 'enhancement_queue_depth',
          selector: { matchLabels: { stage: name } },
        });
        expect(metric.external!.target.type).toBe('AverageValue');
        expect(Number(metric.external!.target.averageValue)).toBeGreaterThan(0);
      }
    });

    it('is scraped by Prometheus on its own port', () => {
      expect(pod.metadata!.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(port),
        'prometheus.io/path': '/metrics',
      });
    });
  });

  describe('network policies', () => {
    const policies = ofKind<INetworkPolicy>(baseObjects, 'NetworkPolicy');

    it('deny all ingress and egress by default in the namespace', () => {
      const deny = named(policies, 'default-deny-all');
      expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    });

    it('let only webhook-ingress and tenant-registry be reached from the ingress controller', () => {
      const fromController = workloadsAllowed(baseObjects, 'ingress', (r) =>
        r.peers.some(
          (p) =>
            (p.namespaceSelector as LabelSelector | undefined)?.matchLabels?.[
              'kubernetes.io/metadata.name'
            ] === 'ingress-nginx',
        ),
      );
      expect(fromController).toEqual([...APIS].sort());
    });

    it('let the five services reach NATS, and NATS accept them and its peers', () => {
      expect(workloadsAllowed(baseObjects, 'egress', toWorkload(4222, 'nats'))).toEqual(
        SERVICES.map((s) => s.name).sort(),
      );
      expect(workloadsAllowed(baseObjects, 'ingress', onPort(4222))).toEqual(['nats']);
      expect(workloadsAllowed(baseObjects, 'ingress', onPort(6222))).toEqual(['nats']);
      expect(workloadsAllowed(baseObjects, 'egress', onPort(6222))).toEqual(['nats']);
    });

    it('let only PgBouncer and the migration reach PostgreSQL', () => {
      expect(workloadsAllowed(baseObjects, 'egress', onPort(5432))).toEqual([
        'pgbouncer',
        'tep-db-migrate',
      ]);
    });

    it('let the services with a database, not the ingress, reach PgBouncer, and PgBouncer accept only them', () => {
      expect(WITH_DATABASE).not.toContain('webhook-ingress');
      expect(workloadsAllowed(baseObjects, 'egress', toWorkload(6432, 'pgbouncer'))).toEqual(
        [...WITH_DATABASE].sort(),
      );
      expect(workloadsAllowed(baseObjects, 'egress', onPort(6432))).toEqual(
        [...WITH_DATABASE].sort(),
      );
      expect(workloadsAllowed(baseObjects, 'ingress', onPort(6432))).toEqual(['pgbouncer']);
      // Every ingress rule that opens PgBouncer's port (or every port) admits
      // exactly those pods of this namespace, and nothing from elsewhere.
      const bouncer = podLabels(workloads(baseObjects).find((w) => w.name === 'pgbouncer')!);
      const rules = policies
        .filter((p) => selects(p.spec?.podSelector, bouncer))
        .flatMap((p) => p.spec?.ingress ?? [])
        .filter((r) => !r.ports || r.ports.some((p) => p.port === 6432));
      expect(rules).toHaveLength(1);
      for (const rule of rules) {
        expect(rule.from?.length).toBeGreaterThan(0);
        for (const peer of rule.from ?? []) {
          expect(peer.ipBlock).toBeUndefined();
          expect(peer.namespaceSelector).toBeUndefined();
          const admitted = workloads(baseObjects)
            .filter((w) => selects(peer.podSelector as LabelSelector, podLabels(w)))
            .map((w) => w.name);
          expect(admitted.sort()).toEqual([...WITH_DATABASE].sort());
        }
      }
    });

    it('allow HTTPS out only for llm-synthesizer and servicedesk-poster, never to private ranges', () => {
      expect(workloadsAllowed(baseObjects, 'egress', onPort(443))).toEqual([
        'llm-synthesizer',
        'servicedesk-poster',
      ]);
      const https = named(policies, 'allow-egress-https');
      const blocks = https.spec!.egress!.flatMap((r) => r.to ?? []).map((p) => p.ipBlock!);
      expect(blocks.find((b) => b.cidr === '0.0.0.0/0')?.except).toEqual(
        expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']),
      );
    });

    it('let the five services (not NATS, not the migration) send traces over OTLP', () => {
      expect(workloadsAllowed(baseObjects, 'egress', onPort(4318))).toEqual(
        SERVICES.map((s) => s.name).sort(),
      );
    });

    it('let every pod resolve names through kube-dns', () => {
      const dns = named(policies, 'allow-dns-egress');
      expect(dns.spec!.podSelector).toEqual({});
      expect(dns.spec!.egress![0].ports).toEqual([
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ]);
    });
  });

  describe('NATS JetStream cluster', () => {
    const statefulSet = named(ofKind<IStatefulSet>(baseObjects, 'StatefulSet'), 'nats');
    const natsConf = readFileSync(join(BASE, 'nats', 'nats.conf'), 'utf8');
    const platformEnv = parseEnvFile(join(BASE, 'platform.env'));

    it('is a StatefulSet of three with a volume each and a headless Service', () => {
      expect(statefulSet.spec!.replicas).toBe(3);
      expect(statefulSet.spec!.volumeClaimTemplates).toHaveLength(1);
      expect(statefulSet.spec!.volumeClaimTemplates![0].spec!.resources!.requests!.storage).toBe(
        '10Gi',
      );
      const headless = named(
        ofKind<IService>(baseObjects, 'Service'),
        statefulSet.spec!.serviceName!,
      );
      expect(headless.spec!.clusterIP).toBe('None');
      expect(headless.spec!.publishNotReadyAddresses).toBe(true);
      const anti = statefulSet.spec!.template.spec!.affinity!.podAntiAffinity!;
      expect(anti.requiredDuringSchedulingIgnoredDuringExecution![0].topologyKey).toBe(
        'kubernetes.io/hostname',
      );
      const pdb = named(ofKind<IPodDisruptionBudget>(baseObjects, 'PodDisruptionBudget'), 'nats');
      expect(pdb.spec!.maxUnavailable).toBe(1);
      const container = statefulSet.spec!.template.spec!.containers[0];
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
      });
      expect(container.volumeMounts?.map((m) => m.mountPath).sort()).toEqual(
        ['/data', '/etc/nats', '/etc/nats-tls', '/var/run/nats'].sort(),
      );
    });

    it('enables JetStream with fsync on every write and routes to all three servers', () => {
      expect(natsConf).toMatch(/^jetstream \{[^}]*store_dir: \/data/m);
      expect(natsConf).toMatch(/^\s+sync_interval: always$/m);
      const routes = [...natsConf.matchAll(/nats:\/\/(nats-\d)\.nats-headless:6222/g)].map(
        (m) => m[1],
      );
      expect(routes).toEqual(['nats-0', 'nats-1', 'nats-2']);
      expect(readKustomization(BASE).configMapGenerator).toContainEqual({
        name: 'nats-config',
        files: ['nats/nats.conf', 'nats/auth.conf'],
      });
    });

    it('is used by the services with three replicas per stream', () => {
      expect(platformEnv.NATS_STREAM_REPLICAS).toBe('3');
      expect(platformEnv.NATS_URL.split(',')).toEqual([
        'tls://nats-0.nats-headless:4222',
        'tls://nats-1.nats-headless:4222',
        'tls://nats-2.nats-headless:4222',
      ]);
      expect(platformEnv).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0' });
    });

    const natsServer = findExecutable('nats-server');
    (natsServer ? it : it.skip)('nats.conf is accepted by nats-server -t', () => {
      const version = execFileSync(natsServer!, ['--version'], { encoding: 'utf8' });
      const [major, minor] = (/v(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
      let conf = natsConf;
      if (major === 2 && minor < 10) {
        // sync_interval arrived in 2.10; the image runs 2.12. Check the rest with the old binary.
        console.log(
          `deploy-checks: nats-server ${version.trim()} predates sync_interval: checking nats.conf without that line`,
        );
        conf = conf.replace(/^\s+sync_interval: always$/m, '');
      }
      const scratch = mkdtempSync(join(tmpdir(), 'tep-nats-'));
      try {
        writeFileSync(join(scratch, 'auth.conf'), readFileSync(join(BASE, 'nats', 'auth.conf')));
        // The TLS files of the nats-tls Secret: the security suite's throw-away ones stand in.
        const tls = makeCertificates(scratch);
        conf = conf
          .replaceAll('/etc/nats-tls/tls.crt', tls.certFile)
          .replaceAll('/etc/nats-tls/tls.key', tls.keyFile)
          .replaceAll('/etc/nats-tls/ca.crt', tls.caFile);
        expect(conf).not.toContain('/etc/nats-tls/');
        writeFileSync(join(scratch, 'nats.conf'), conf);
        const passwords = Object.fromEntries(NATS_USERS.map((u) => [natsPasswordVariable(u), 'x']));
        const result = spawnSync(natsServer!, ['-c', join(scratch, 'nats.conf'), '-t'], {
          encoding: 'utf8',
          env: { ...process.env, POD_NAME: 'nats-0', ...passwords },
        });
        expect(`${result.stdout}${result.stderr}`).toMatch(/configuration file .* is valid/);
        expect(result.status).toBe(0);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
    if (!natsServer) {
      console.log('deploy-checks: SKIPPED nats.conf check: nats-server is not on PATH');
    }
  });

  describe('migration Job', () => {
    const job = named(ofKind<IJob>(baseObjects, 'Job'), 'tep-db-migrate');
    const container = job.spec!.template.spec!.containers[0];

    it('runs the compiled db:migrate from the registry image with the five database URLs', () => {
      expect(container.image).toMatch(/^tep\/tenant-registry:/);
      expect(container.command).toEqual([
        'node',
        '--enable-source-maps',
        'dist/tools/db/migrate.js',
      ]);
      const uses = secretUses(job.spec!.template, container);
      expect(uses.map((u) => [u.variable, u.asFile]).sort()).toEqual([
        ['DATABASE_ADMIN_URL', true],
        ['DATABASE_OWNER_URL', true],
        ['DATABASE_POSTER_URL', true],
        ['DATABASE_REGISTRY_URL', true],
        ['DATABASE_URL', true],
      ]);
      expect(job.spec!.template.spec!.restartPolicy).toBe('Never');
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
      });
      expect(container.resources?.limits).toBeDefined();
    });
  });

  describe('PgBouncer', () => {
    const deployment = named(ofKind<IDeployment>(baseObjects, 'Deployment'), 'pgbouncer');
    const pod = deployment.spec!.template;
    const container = pod.spec!.containers[0];
    const iniText = readFileSync(join(BASE, 'pgbouncer', 'pgbouncer.ini'), 'utf8');
    const ini = parsePgBouncerIni(iniText);
    const setting = (key: string): string => {
      const value = ini.settings[key];
      if (value === undefined) throw new Error(`pgbouncer.ini does not set ${key}`);
      return value;
    };
    const numeric = (key: string): number => {
      const value = Number(setting(key));
      if (!Number.isFinite(value)) throw new Error(`pgbouncer.ini: ${key} is not a number`);
      return value;
    };
    const templates = SECRET_TEMPLATES.flatMap(loadK8sFile) as (K8sObject & ISecret)[];
    const template = (name: string) => named(templates, name).stringData ?? {};
    /** Each service with a database: the tep-secrets URL it connects with. */
    const serviceUrls = WITH_DATABASE.map((name) => {
      const service = named(ofKind<IDeployment>(baseObjects, 'Deployment'), name);
      const c = service.spec!.template.spec!.containers[0];
      const use = secretUses(service.spec!.template, c).find((u) => u.variable === 'DATABASE_URL')!;
      return {
        name,
        secret: use.secret,
        key: use.key,
        url: new URL(template(use.secret)[use.key]),
      };
    });
    const databasesIni = parsePgBouncerIni(
      template('tep-pgbouncer')['databases.ini'],
      'databases.ini',
    );
    const databaseHost = parseConnectString(databasesIni.databases.ai_agents ?? '');

    /** What a path in pgbouncer.ini is in the pod: the ConfigMap or Secret key mounted there. */
    function mountedAt(path: string): { configMap?: string; secret?: string; key: string } {
      const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
      if (!mount) throw new Error(`${path} is on no volume of the pgbouncer container`);
      const file = path.slice(mount.mountPath.length + 1);
      const volume = pod.spec!.volumes!.find((v) => v.name === mount.name)!;
      if (volume.configMap) return { configMap: volume.configMap.name, key: file };
      for (const source of volume.projected?.sources ?? []) {
        const item = source.secret?.items?.find((i) => i.path === file);
        if (item) return { secret: source.secret!.name, key: item.key };
      }
      throw new Error(`${path}: volume ${mount.name} has no such file`);
    }

    it('runs two replicas of PgBouncer 1.21 or later, never both on one node, with a PDB', () => {
      expect(deployment.spec!.replicas).toBe(2);
      expect(deployment.spec!.strategy?.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
      // A well-kept image whose PgBouncer knows max_prepared_statements.
      const image = /^ghcr\.io\/cloudnative-pg\/pgbouncer:(\d+)\.(\d+)\.\d+$/.exec(
        container.image!,
      );
      expect(image).not.toBeNull();
      const [major, minor] = [Number(image![1]), Number(image![2])];
      expect(major > 1 || minor >= 21).toBe(true);
      const anti =
        pod.spec!.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution!;
      expect(anti).toHaveLength(1);
      expect(anti[0].topologyKey).toBe('kubernetes.io/hostname');
      expect(selects(anti[0].labelSelector as LabelSelector, pod.metadata!.labels!)).toBe(true);
      const pdb = named(
        ofKind<IPodDisruptionBudget>(baseObjects, 'PodDisruptionBudget'),
        'pgbouncer',
      );
      expect(pdb.spec!.maxUnavailable).toBe(1);
      const covered = workloads(baseObjects).filter((w) =>
        selects(pdb.spec!.selector as LabelSelector, podLabels(w)),
      );
      expect(covered.map((w) => w.name)).toEqual(['pgbouncer']);
      // A fixed number: the sizing below counts the replicas, an autoscaler must not change them.
      const hpas = ofKind<IHorizontalPodAutoscaler>(baseObjects, 'HorizontalPodAutoscaler');
      expect(hpas.map((h) => h.spec!.scaleTargetRef.name)).not.toContain('pgbouncer');
    });

    it('runs with the restricted security context of the services', () => {
      expectRestricted(pod, container);
      expect(pod.spec!.securityContext!.fsGroup).toBe(pod.spec!.securityContext!.runAsGroup);
      expect(pod.spec!.enableServiceLinks).toBe(false);
      expect(pod.spec!.containers).toHaveLength(1);
      // Only /tmp is writable; the secrets are group-readable files, not variables.
      for (const m of container.volumeMounts ?? []) {
        expect([m.mountPath, m.readOnly ?? false]).toEqual([m.mountPath, m.mountPath !== '/tmp']);
      }
      expect(pod.spec!.volumes!.find((v) => v.projected)?.projected?.defaultMode).toBe(0o440);
      expect(container.env ?? []).toEqual([]);
      expect(container.envFrom ?? []).toEqual([]);
      expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
    });

    it('listens on 6432 behind the Service pgbouncer, probed over TCP, shutting down safely', () => {
      expect(setting('listen_port')).toBe('6432');
      expect(container.ports).toEqual([
        { name: 'pgbouncer', containerPort: 6432, protocol: 'TCP' },
      ]);
      const service = named(ofKind<IService>(baseObjects, 'Service'), 'pgbouncer');
      expect(selects({ matchLabels: service.spec!.selector }, pod.metadata!.labels!)).toBe(true);
      expect(service.spec!.ports).toEqual([
        { name: 'pgbouncer', port: 6432, targetPort: 'pgbouncer', protocol: 'TCP' },
      ]);
      for (const probe of [
        container.startupProbe,
        container.readinessProbe,
        container.livenessProbe,
      ]) {
        expect(probe?.tcpSocket).toEqual({ port: 'pgbouncer' });
      }
      const tolerance = (p: typeof container.livenessProbe) =>
        (p?.periodSeconds ?? 10) * (p?.failureThreshold ?? 3);
      expect(tolerance(container.livenessProbe)).toBeGreaterThan(
        tolerance(container.readinessProbe),
      );
      // PgBouncer itself is PID 1 and gets SIGINT (finish the running transactions) in preStop.
      expect(container.command?.[0]).toMatch(/\/pgbouncer$/);
      expect(container.lifecycle?.preStop?.exec?.command?.join(' ')).toMatch(/kill -INT 1\b/);
      expect(pod.spec!.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    });

    it('takes pgbouncer.ini from the generated pgbouncer-config ConfigMap, in transaction pooling mode', () => {
      expect(readKustomization(BASE).configMapGenerator).toContainEqual({
        name: 'pgbouncer-config',
        files: ['pgbouncer/pgbouncer.ini'],
      });
      expect(mountedAt(container.command![1])).toEqual({
        configMap: 'pgbouncer-config',
        key: 'pgbouncer.ini',
      });
      // One server connection per transaction: safe because the tenant is set
      // with set_config(…, true) in each transaction (libs/data rls spec).
      expect(setting('pool_mode')).toBe('transaction');
      // SCRAM to the clients, TLS with certificate and host checks to PostgreSQL.
      expect(setting('auth_type')).toBe('scram-sha-256');
      expect(setting('server_tls_sslmode')).toBe('verify-full');
      // A PostgreSQL restart is survived in about a second, not the default 15.
      expect(numeric('server_login_retry')).toBeLessThanOrEqual(2);
      // Named prepared statements across transactions (PgBouncer 1.21+).
      expect(numeric('max_prepared_statements')).toBeGreaterThan(0);
      expect(setting('ignore_startup_parameters').split(',')).toContain('extra_float_digits');
      // No database of its own and no wildcard: the one entry comes from the Secret.
      expect(ini.databases).toEqual({});
      expect(ini.includes).toHaveLength(1);
    });

    it('reads the userlist, the database entry and its CA from the tep-pgbouncer Secret', () => {
      const files = {
        auth_file: setting('auth_file'),
        server_tls_ca_file: setting('server_tls_ca_file'),
        '%include': ini.includes[0],
      };
      const pgbouncerTemplate = template('tep-pgbouncer');
      for (const [what, path] of Object.entries(files)) {
        const mounted = mountedAt(path);
        expect([what, mounted.secret]).toEqual([what, 'tep-pgbouncer']);
        expect(Object.keys(pgbouncerTemplate)).toContain(mounted.key);
      }
      // Only ai_agents, on the managed PostgreSQL.
      expect(Object.keys(databasesIni.databases)).toEqual(['ai_agents']);
      expect(databaseHost).toEqual({
        host: 'REPLACE_ME_DB_HOST',
        port: '5432',
        dbname: 'ai_agents',
      });
      // The services' roles, and the stats user of the admin console: no
      // superuser or owner (the migration connects to PostgreSQL itself).
      const names = userlistNames(pgbouncerTemplate['userlist.txt']);
      expect(names.sort()).toEqual(
        [...new Set(serviceUrls.map((s) => s.url.username)), setting('stats_users')].sort(),
      );
      const migration = template('tep-migration-secrets');
      for (const key of ['DATABASE_ADMIN_URL', 'DATABASE_OWNER_URL']) {
        expect(names).not.toContain(new URL(migration[key]).username);
      }
      for (const line of pgbouncerTemplate['userlist.txt'].trim().split('\n')) {
        expect(line).toMatch(/^"[a-z_]+" "REPLACE_ME"$/);
      }
    });

    it('is where the services’ URLs point (pgbouncer:6432); the migration’s name the database itself', () => {
      expect(serviceUrls.map((s) => s.name).sort()).toEqual([...WITH_DATABASE].sort());
      for (const { name, secret, key, url } of serviceUrls) {
        expect([name, secret, url.hostname, url.port, url.pathname]).toEqual([
          name,
          'tep-secrets',
          'pgbouncer',
          '6432',
          '/ai_agents',
        ]);
        expect([name, key, url.protocol]).toEqual([name, key, 'postgres:']);
      }
      // Every service URL of the template (also those only the migration reads for the role).
      const tepSecrets = template('tep-secrets');
      for (const key of ['DATABASE_URL', 'DATABASE_REGISTRY_URL', 'DATABASE_POSTER_URL']) {
        expect([key, new URL(tepSecrets[key]).host]).toEqual([key, 'pgbouncer:6432']);
      }
      // The migration Job connects with the admin and owner URLs: DDL, session
      // advisory locks, CREATE DATABASE from `postgres`. Straight to PostgreSQL,
      // the same server PgBouncer's database entry names.
      const migration = template('tep-migration-secrets');
      for (const key of ['DATABASE_ADMIN_URL', 'DATABASE_OWNER_URL']) {
        const url = new URL(migration[key]);
        expect([key, url.hostname, url.port]).toEqual([key, databaseHost.host, databaseHost.port]);
      }
      expect(new URL(migration.DATABASE_OWNER_URL).pathname).toBe(`/${databaseHost.dbname}`);
    });

    it('is sized: every service connection fits one pod, the server connections fit max_connections', () => {
      // deploy/README.md, "Sizing", with its worked example's PostgreSQL.
      const MAX_CONNECTIONS = 100;
      const SUPERUSER_RESERVED = 3;
      const KEPT_FOR_OTHERS = 22; // migration Job, operators' tools, the provider's agents
      const poolSize = Number(parseEnvFile(join(BASE, 'platform.env')).DATABASE_POOL_SIZE);
      expect(poolSize).toBeGreaterThan(0);
      // Client side: at the HPAs' maxima, one PgBouncer pod takes them all (the other restarting).
      const hpas = ofKind<IHorizontalPodAutoscaler>(baseObjects, 'HorizontalPodAutoscaler');
      const maxClients = WITH_DATABASE.reduce(
        (sum, name) => sum + named(hpas, name).spec!.maxReplicas * poolSize,
        0,
      );
      expect(maxClients).toBe(340);
      expect(numeric('max_client_conn')).toBeGreaterThanOrEqual(maxClients);
      // Server side, per pod: one pool per database and role, under the per-database cap.
      const pools = new Set(serviceUrls.map((s) => s.url.username)).size;
      expect(pools).toBe(3);
      expect(
        pools * (numeric('default_pool_size') + numeric('reserve_pool_size')),
      ).toBeLessThanOrEqual(numeric('max_db_connections'));
      // All pods at once, the rolling update's surge pod included.
      const surge = Number(deployment.spec!.strategy!.rollingUpdate!.maxSurge);
      const pods = deployment.spec!.replicas! + surge;
      expect(pods * numeric('max_db_connections')).toBeLessThanOrEqual(
        MAX_CONNECTIONS - SUPERUSER_RESERVED - KEPT_FOR_OTHERS,
      );
    });

    const pgbouncer = process.env.PGBOUNCER_BIN ?? findExecutable('pgbouncer');
    (pgbouncer ? it : it.skip)(
      'pgbouncer.ini is accepted by pgbouncer, which applies it',
      async () => {
        const [major, minor] = pgBouncerVersion(pgbouncer!);
        let conf = iniText;
        if (major === 1 && minor < 21) {
          // The image runs 1.25; check the rest with the older binary (Debian's 1.18).
          console.log(
            `deploy-checks: pgbouncer ${major}.${minor} predates max_prepared_statements: checking pgbouncer.ini without that line`,
          );
          conf = conf.replace(/^max_prepared_statements = .*$/m, '');
        }
        const scratch = mkdtempSync(join(tmpdir(), 'tep-pgbouncer-ca-'));
        try {
          // The database's CA: the security suite's throw-away one stands in.
          const ca = readFileSync(makeCertificates(scratch).caFile, 'utf8');
          const secret = template('tep-pgbouncer');
          const files = {
            'userlist.txt': secret['userlist.txt'].replaceAll('REPLACE_ME', 'x'),
            'databases.ini': secret['databases.ini'].replace(
              'REPLACE_ME_DB_HOST',
              'db.example.invalid',
            ),
            'db-ca.crt': ca,
          };
          await withPgBouncer(
            pgbouncer!,
            files,
            (dir, port) => {
              const local = conf
                .replace(/^listen_addr = .*$/m, 'listen_addr = 127.0.0.1')
                .replace(/^listen_port = .*$/m, `listen_port = ${port}`)
                .replaceAll('/var/run/secrets/tep/', `${dir}/`);
              expect(local).not.toMatch(/^[^;].*\/var\/run\/secrets\/tep\//m);
              return local;
            },
            async (port) => {
              const connectAs = (password: string) =>
                new Client({
                  host: '127.0.0.1',
                  port,
                  database: 'pgbouncer',
                  user: setting('stats_users'),
                  password,
                });
              // SCRAM against the userlist: a wrong password is refused.
              const wrong = connectAs('wrong');
              await expect(wrong.connect()).rejects.toThrow(/password authentication failed|SASL/);
              await wrong.end().catch(() => undefined);
              const admin = connectAs('x');
              await admin.connect();
              try {
                const config = await admin.query<{ key: string; value: string }>('SHOW CONFIG');
                const applied = Object.fromEntries(config.rows.map((r) => [r.key, r.value]));
                for (const key of [
                  'pool_mode',
                  'auth_type',
                  'server_tls_sslmode',
                  'default_pool_size',
                  'reserve_pool_size',
                  'max_db_connections',
                  'max_client_conn',
                ]) {
                  expect([key, applied[key]]).toEqual([key, setting(key)]);
                }
                expect(Number(applied.server_login_retry)).toBe(numeric('server_login_retry'));
                const databases = await admin.query<{ name: string; host: string; port: number }>(
                  'SHOW DATABASES',
                );
                const entry = databases.rows.find((r) => r.name === 'ai_agents');
                expect(entry).toMatchObject({ host: 'db.example.invalid' });
                expect(Number(entry!.port)).toBe(5432);
              } finally {
                await admin.end();
              }
            },
          );
        } finally {
          rmSync(scratch, { recursive: true, force: true });
        }
      },
    );
    if (!pgbouncer) {
      console.log('deploy-checks: SKIPPED pgbouncer.ini check: pgbouncer is not on PATH');
    }
  });

  describe('Secret templates', () => {
    const secrets = SECRET_TEMPLATES.flatMap(loadK8sFile) as (K8sObject & ISecret)[];

    it('are valid Secrets holding only placeholders', () => {
      expect(secrets.map((s) => s.metadata.name).sort()).toEqual([
        'tep-migration-secrets',
        'tep-nats-users',
        'tep-pgbouncer',
        'tep-secrets',
      ]);
      for (const secret of secrets) {
        expect(validateObject(secret)).toEqual({ object: objectId(secret), outcome: 'valid' });
        expect(secret.data).toBeUndefined();
        for (const [key, value] of Object.entries(secret.stringData ?? {})) {
          expect(`${key}: ${value}`).toMatch(/REPLACE_ME/);
        }
      }
    });

    it('hold every key the manifests reference, and are not applied by any kustomization', () => {
      const keys = new Set(
        secrets.flatMap((s) =>
          Object.keys(s.stringData ?? {}).map((k) => `${s.metadata.name}/${k}`),
        ),
      );
      const refs = secretKeyRefs(baseObjects);
      expect(refs.length).toBeGreaterThanOrEqual(12);
      for (const ref of refs) expect(keys).toContain(`${ref.secret}/${ref.key}`);
      // And every file of every secret volume, also those no `<NAME>_FILE` names
      // (PgBouncer's, which pgbouncer.ini reads), but the out-of-band ones.
      const items = workloads(baseObjects).flatMap((w) =>
        (w.template.spec?.volumes ?? []).flatMap((v) => [
          ...(v.projected?.sources ?? []).flatMap((source) =>
            (source.secret?.items ?? []).map((i) => `${source.secret!.name}/${i.key}`),
          ),
          ...(v.secret?.items ?? []).map((i) => `${v.secret!.secretName}/${i.key}`),
        ]),
      );
      const fromTemplates = items.filter((i) => !(i.split('/')[0] in OUT_OF_BAND_SECRETS));
      expect(fromTemplates).toEqual(
        expect.arrayContaining([
          'tep-pgbouncer/userlist.txt',
          'tep-pgbouncer/databases.ini',
          'tep-pgbouncer/db-ca.crt',
        ]),
      );
      for (const item of fromTemplates) expect(keys).toContain(item);
      for (const secret of Object.keys(OUT_OF_BAND_SECRETS)) {
        expect(secrets.map((s) => s.metadata.name)).not.toContain(secret);
      }
      for (const dir of [BASE, ...OVERLAYS.map((o) => join(K8S_DIR, 'overlays', o))]) {
        expect(JSON.stringify(readKustomization(dir))).not.toMatch(/secrets\//);
      }
    });
  });
});

const kustomize = findKustomize();
if (!kustomize) {
  console.log(
    'deploy-checks: SKIPPED rendering deploy/k8s overlays: neither kubectl nor kustomize is on PATH (base files were still checked)',
  );
}
const describeRendered = kustomize ? describe : describe.skip;

describeRendered(`deploy/k8s overlays rendered with ${kustomize?.tool ?? 'kustomize'}`, () => {
  const rendered = new Map<string, K8sObject[]>();
  function render(overlay: (typeof OVERLAYS)[number]): K8sObject[] {
    if (!rendered.has(overlay)) {
      const dir = join(K8S_DIR, 'overlays', overlay);
      rendered.set(overlay, parseK8sObjects(kustomize!.render(dir), `overlays/${overlay}`));
    }
    return rendered.get(overlay)!;
  }

  describe.each(OVERLAYS)('%s', (overlay) => {
    it('renders objects that all validate, all in the overlay namespace', () => {
      const objects = render(overlay);
      // The base's 42 objects plus the three generated ConfigMaps.
      expect(objects).toHaveLength(45);
      expect(objects.map(validateObject).filter((r) => r.outcome !== 'valid')).toEqual([]);
      for (const o of objects) {
        if (o.kind === 'Namespace') expect(o.metadata.name).toBe(overlay);
        else expect([objectId(o), o.metadata.namespace]).toEqual([objectId(o), overlay]);
      }
    });

    it('points every ConfigMap reference at a generated ConfigMap', () => {
      const objects = render(overlay);
      const configMaps = new Set(
        ofKind<K8sObject>(objects, 'ConfigMap').map((c) => c.metadata.name),
      );
      expect(configMaps.size).toBe(3);
      const refs = workloads(objects).flatMap((w) => [
        ...(w.template.spec?.containers ?? []).flatMap((c) =>
          (c.envFrom ?? []).map((e) => e.configMapRef?.name),
        ),
        ...(w.template.spec?.volumes ?? []).map((v) => v.configMap?.name),
      ]);
      const names = refs.filter((r): r is string => r !== undefined);
      // tep-config in the five services' Deployments, nats-config in the
      // StatefulSet, pgbouncer-config in PgBouncer's Deployment.
      expect(names.length).toBe(7);
      expect(names.filter((n) => n.startsWith('pgbouncer-config-'))).toHaveLength(1);
      for (const ref of names) expect(configMaps).toContain(ref);
      expect(names.every((r) => /-[a-z0-9]{10}$/.test(r))).toBe(true);
    });

    it('keeps the probes, and the ingress without a database, after the overlay', () => {
      const deployments = ofKind<IDeployment>(render(overlay), 'Deployment').filter(
        (d) => d.metadata.name !== 'pgbouncer',
      );
      expect(deployments).toHaveLength(SERVICES.length);
      for (const deployment of deployments) {
        const name = deployment.metadata.name as (typeof SERVICES)[number]['name'];
        const [container] = deployment.spec!.template.spec!.containers;
        expect([name, container.livenessProbe?.httpGet?.path]).toEqual([name, '/livez']);
        expect([name, container.readinessProbe?.httpGet?.path]).toEqual([name, '/readyz']);
        expect([name, container.startupProbe?.httpGet?.path]).toEqual([name, '/livez']);
        const names = secretUses(deployment.spec!.template, container).map((u) => u.variable);
        expect([name, names.includes('DATABASE_URL')]).toEqual([name, usesDatabase(name)]);
      }
    });

    it('uses registry images, never the base placeholders', () => {
      const images = workloads(render(overlay)).flatMap((w) =>
        w.template.spec!.containers.map((c) => c.image!),
      );
      // The five services, the migration, NATS and PgBouncer.
      expect(images).toHaveLength(8);
      for (const image of images) expect(image).not.toMatch(/^tep\/|:latest$/);
    });

    it('configures production-grade NATS and service settings', () => {
      const objects = render(overlay);
      const config = ofKind<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap');
      const tepConfig = config.find((c) => c.metadata.name.startsWith('tep-config-'))!.data;
      expect(tepConfig).toMatchObject({
        NODE_ENV: 'production',
        HOST: '0.0.0.0',
        NATS_STREAM_REPLICAS: '3',
      });
      const natsConfig = config.find((c) => c.metadata.name.startsWith('nats-config-'))!.data;
      expect(natsConfig['nats.conf']).toMatch(/^\s+sync_interval: always$/m);
      // Users and permissions (tests/security proves them), clients over TLS only.
      expect(natsConfig['nats.conf']).toMatch(/^include \.\/auth\.conf$/m);
      expect(natsConfig['nats.conf']).toMatch(/^tls \{$/m);
      expect(natsConfig['auth.conf']).toBe(renderNatsAuthorization(createTopology('')));
      expect(tepConfig.NATS_URL.split(',').every((u) => u.startsWith('tls://'))).toBe(true);
      expect(tepConfig.NATS_TLS_CA_FILE).toMatch(/^\/var\/run\/secrets\/tep\//);
      const pgbouncerConfig = config.find((c) => c.metadata.name.startsWith('pgbouncer-config-'))!;
      expect(pgbouncerConfig.data['pgbouncer.ini']).toBe(
        readFileSync(join(BASE, 'pgbouncer', 'pgbouncer.ini'), 'utf8'),
      );
      expect(parsePgBouncerIni(pgbouncerConfig.data['pgbouncer.ini']).settings.pool_mode).toBe(
        'transaction',
      );
    });
  });

  it('production: the LLM endpoint is set, the database egress narrowed to its subnet', () => {
    const objects = render('production');
    const tepConfig = ofKind<K8sObject & { data: Record<string, string> }>(
      objects,
      'ConfigMap',
    ).find((c) => c.metadata.name.startsWith('tep-config-'))!.data;
    expect(tepConfig.LLM_BASE_URL).toMatch(/^https:\/\//);
    expect(tepConfig.LOG_LEVEL).toBe('info');
    const postgres = named(
      ofKind<INetworkPolicy>(objects, 'NetworkPolicy'),
      'allow-egress-to-postgres',
    );
    expect(postgres.spec!.egress).toEqual([
      { to: [{ ipBlock: { cidr: '10.20.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5432 }] },
    ]);
  });

  it('staging: one replica minimum, offline synthesizer, staging hosts', () => {
    const objects = render('staging');
    const hpas = ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.spec!.minReplicas)).toEqual([1, 1, 1, 1, 1]);
    const tepConfig = ofKind<K8sObject & { data: Record<string, string> }>(
      objects,
      'ConfigMap',
    ).find((c) => c.metadata.name.startsWith('tep-config-'))!.data;
    expect(tepConfig.LLM_BASE_URL).toBeUndefined();
    expect(tepConfig.LOG_LEVEL).toBe('debug');
    const hosts = ofKind<K8sObject & { spec: { rules: { host: string }[] } }>(
      objects,
      'Ingress',
    ).map((i) => i.spec.rules[0].host);
    expect(hosts.sort()).toEqual(['admin.ai-agents.staging', 'api.ai-agents.staging']);
    expect(ofKind<K8sObject>(objects, 'Namespace')[0].metadata.labels?.environment).toBe('staging');
  });

  it('production with the KEDA component: ScaledObjects replace the workers’ HPAs', () => {
    const objects = parseK8sObjects(
      renderWithComponents(
        kustomize!.render,
        join(K8S_DIR, 'overlays', 'production'),
        [join(K8S_DIR, 'components', 'keda')],
        'production',
      ),
      'production+keda',
    );
    expect(objects.map(validateObject).filter((r) => r.outcome !== 'valid')).toEqual([]);
    const hpas = ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.metadata.name).sort()).toEqual([...APIS].sort());
    const scaled = ofKind<IScaledObject>(objects, 'ScaledObject');
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual([...WORKERS].sort());
    for (const s of scaled) {
      const [trigger] = s.spec.triggers;
      expect(trigger.type).toBe('prometheus');
      expect(trigger.metadata.query).toBe(
        `max(enhancement_queue_depth{stage="${s.spec.scaleTargetRef.name}", namespace="production"})`,
      );
      expect(Number(trigger.metadata.threshold)).toBeGreaterThan(0);
    }
  });
});

it('kustomize overlays exist for production and staging', () => {
  for (const overlay of OVERLAYS) {
    const kustomization = readKustomization(join(K8S_DIR, 'overlays', overlay));
    expect(kustomization).toMatchObject({ namespace: overlay, resources: ['../../base'] });
  }
});
