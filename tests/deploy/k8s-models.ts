/**
 * Validation of manifests against the Kubernetes API schemas, with the
 * `kubernetes-models` classes (and KEDA's CRD models). kubernetes-models 4.x
 * is used because 5.x ships as ES modules only, which jest's CommonJS
 * runtime cannot load.
 *
 * Note: these schemas check types, required fields and enums, but accept
 * unknown fields (the Kubernetes OpenAPI has no additionalProperties: false):
 * a misspelt field passes here. The specs therefore assert the fields that
 * matter (probes, resources, securityContext…) explicitly.
 */
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { objectId, type K8sObject } from './deploy-files';

interface Validatable {
  validate(): void;
}

type ModelClass = new (data: never) => Validatable;

/** `apiVersion/kind` → the model that validates it. */
export const MODELS: Readonly<Record<string, ModelClass>> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

/**
 * Custom resources we know of but cannot validate, with the reason. The NATS
 * cluster uses no CRD (a plain StatefulSet) and KEDA has a models package, so
 * nothing deployed today falls here; these are listed for the variants the
 * README mentions.
 */
export const UNVALIDATED_KINDS: Readonly<Record<string, string>> = {
  'monitoring.coreos.com/v1/PrometheusRule':
    'Prometheus Operator CRD (wrapping deploy/prometheus/rules.yml): no models package installed; promtool checks the rules themselves',
  'monitoring.coreos.com/v1/ServiceMonitor': 'Prometheus Operator CRD: no models package installed',
  'jetstream.nats.io/v1beta2/Stream':
    'NACK (NATS JetStream controller) CRD: the services create their streams themselves',
};

export type ValidationResult =
  | { object: string; outcome: 'valid' }
  | { object: string; outcome: 'skipped'; reason: string }
  | { object: string; outcome: 'invalid'; error: string };

export function validateObject(object: K8sObject): ValidationResult {
  const key = `${object.apiVersion}/${object.kind}`;
  const id = objectId(object);
  const Model = MODELS[key];
  if (!Model) {
    const reason = UNVALIDATED_KINDS[key];
    return reason
      ? { object: id, outcome: 'skipped', reason }
      : { object: id, outcome: 'invalid', error: `no model for ${key} and no reason to skip it` };
  }
  try {
    new Model(object as never).validate();
    return { object: id, outcome: 'valid' };
  } catch (error) {
    return {
      object: id,
      outcome: 'invalid',
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
