// The Kubernetes manifests without a cluster (there is none here): `kubectl kustomize` (kustomize
// built into kubectl) renders every overlay offline; every rendered object is validated against
// the published Kubernetes and KEDA schemas (the kubernetes-models packages: types, required
// fields, formats; unknown fields are not theirs to refuse); and what the objects say is checked
// against the registries they were generated from: images, ports, probes, env, NATS users, the
// KEDA triggers' streams and consumers and the namespace their endpoint names. A stale base fails
// tests/generated-files.test.ts (make generate writes it).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { envSchema } from '#platform/config-schema.ts';
import { requireBinary } from '#platform/binaries.ts';
import { natsUserNames, natsUsers, passwordVariable } from '#platform/nats/permissions.ts';
import { projectRoot } from '#platform/paths.ts';
import { poolDefinitions, poolNames, workerRole } from '#platform/pools.ts';
import { roleSpecs } from '#platform/roles.ts';

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [key: string]: unknown };
type Container = { name: string; image: string; args: string[]; ports?: { containerPort: number; name: string }[]; env?: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  envFrom?: { configMapRef: { name: string } }[]; readinessProbe?: { httpGet: { path: string; port: string } }; livenessProbe?: { httpGet: { path: string } };
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean }; resources: { limits: Record<string, string>; requests: Record<string, string> } };
type PodSpec = { containers: Container[]; terminationGracePeriodSeconds: number; securityContext: { runAsNonRoot: boolean } };

const kubectl = requireBinary('kubectl', 'kubectl (with kustomize built in) renders the manifests offline; install it from your distribution or kubernetes.io.');
const overlaysDir = path.join(projectRoot, 'deploy', 'kubernetes', 'overlays');
const overlays = readdirSync(overlaysDir);
const models: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment, 'batch/v1/Job': Job, 'policy/v1/PodDisruptionBudget': PodDisruptionBudget, 'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace, 'v1/Secret': Secret, 'v1/Service': Service, 'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

function render(overlay: string): K8sObject[] {
  const text = execFileSync(kubectl, ['kustomize', path.join(overlaysDir, overlay)], { encoding: 'utf8' });
  return parseAllDocuments(text).map((d) => d.toJSON() as K8sObject);
}
const named = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const podSpec = (o: K8sObject | undefined) => (o as { spec: { template: { spec: PodSpec } } } | undefined)?.spec.template.spec;

/** The role's Deployment, Service and PodDisruptionBudget say what the registry says. */
function expectAsRegistered(objects: K8sObject[], role: (typeof roleSpecs)[number], configName: string | undefined, drainSeconds: number): void {
  const spec = podSpec(named(objects, 'Deployment', role.name));
  expect(spec, `a Deployment for ${role.name}`).toBeDefined();
  const [c] = spec?.containers ?? [];
  expect(c?.image).toMatch(/(^|\/)tps-lab:[\w.-]+$/);
  expect(c?.args).toEqual(['run', role.name]);
  expect(c?.ports).toEqual([{ name: 'http', containerPort: role.port }]);
  expect([c?.readinessProbe?.httpGet, c?.livenessProbe?.httpGet.path]).toEqual([{ path: '/readyz', port: 'http' }, '/healthz']);
  expect(c?.env?.find((e) => e.name === 'NATS_USER')?.value).toBe(role.natsUser);
  expect(c?.env?.find((e) => e.name === 'NATS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'tps-nats-users', key: role.natsUser });
  expect(c?.envFrom?.[0]?.configMapRef.name).toBe(configName);
  expect([spec?.securityContext.runAsNonRoot, c?.securityContext.readOnlyRootFilesystem, c?.securityContext.allowPrivilegeEscalation]).toEqual([true, true, false]);
  expect(c?.resources.limits.memory).toBeDefined();
  expect(spec?.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds);
  expect(named(objects, 'Service', role.name)).toMatchObject({ spec: { ports: [{ port: role.port, targetPort: 'http' }] } });
  expect(named(objects, 'PodDisruptionBudget', role.name)).toBeDefined();
}

it('has the overlays docs/kubernetes.md walks through', () => {
  expect(overlays.sort()).toEqual(['lab', 'production']);
});

describe.each(overlays)('the %s overlay', (overlay) => {
  const objects = render(overlay);
  const namespace = (named(objects, 'Namespace', objects.find((o) => o.kind === 'Namespace')?.metadata.name ?? '')?.metadata.name) ?? '';

  it('renders objects the Kubernetes and KEDA schemas accept, all in its own namespace', () => {
    expect(namespace).not.toBe('');
    const problems: string[] = [];
    for (const o of objects) {
      const Model = models[`${o.apiVersion}/${o.kind}`];
      if (!Model) { problems.push(`${o.kind} ${o.metadata.name}: ${o.apiVersion} ${o.kind} is not a kind this test knows`); continue; }
      try { new Model(o as never).validate(); } catch (err) { problems.push(`${o.kind} ${o.metadata.name}: ${(err as Error).message}`); }
      if (o.kind !== 'Namespace' && o.metadata.namespace !== namespace) problems.push(`${o.kind} ${o.metadata.name} is in ${o.metadata.namespace ?? 'no namespace'}, not ${namespace}`);
    }
    expect(problems).toEqual([]);
  });

  it('runs every role of the registry as the registry says: image, command, port, probes, NATS user, hardening, a drain longer than the workers\'', () => {
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('tps-config'));
    // Each of a role's three shutdown steps (jobs, NATS, HTTP) may take SHUTDOWN_GRACE_MS.
    const drainSeconds = (3 * envSchema.parse({}).SHUTDOWN_GRACE_MS) / 1000;
    for (const role of roleSpecs) expectAsRegistered(objects, role, config?.metadata.name, drainSeconds);
    // The chain's addresses in the shared configuration are the services' own.
    const data = (config as { data?: Record<string, string> } | undefined)?.data ?? {};
    for (const role of roleSpecs.filter((r) => r.name.startsWith('service-'))) expect(data[`${role.name.replace('-', '_').toUpperCase()}_URL`]).toBe(`http://${role.name}:${role.port}`);
    expect(data.NATS_STREAM_REPLICAS).toBe('3');
    expect(podSpec(named(objects, 'Job', 'tps-provision'))?.containers[0]).toMatchObject({ args: ['provision'], env: [{ name: 'NATS_USER', value: 'operator' }, expect.anything()] });
  });

  it('scales each worker pool with KEDA on its own consumer\'s lag, reading the NATS of its namespace', () => {
    for (const pool of poolNames) {
      const so = named(objects, 'ScaledObject', workerRole(pool)) as { spec: { scaleTargetRef: { name: string }; minReplicaCount: number; triggers: { type: string; metadata: Record<string, string> }[] } } | undefined;
      expect(so?.spec.scaleTargetRef.name).toBe(workerRole(pool));
      expect(so?.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(so?.spec.triggers[0]).toMatchObject({ type: 'nats-jetstream', metadata: { stream: poolDefinitions[pool].stream, consumer: poolDefinitions[pool].consumer, account: '$G' } });
      expect(so?.spec.triggers[0]?.metadata.natsServerMonitoringEndpoint).toBe(`nats.${namespace}.svc.cluster.local:8222`);
      expect(Number(so?.spec.triggers[0]?.metadata.lagThreshold)).toBeGreaterThan(0);
    }
  });

  it(overlay === 'lab' ? 'carries the documented lab passwords, one per NATS user' : 'carries no password: the Secret is the operator\'s to create', () => {
    const secret = named(objects, 'Secret', 'tps-nats-users') as { data?: Record<string, string> } | undefined;
    if (overlay !== 'lab') return expect(secret).toBeUndefined();
    expect(Object.keys(secret?.data ?? {}).sort()).toEqual([...natsUserNames].sort());
  });
});

it('gives the NATS chart three servers on file storage, and our users with their permissions and passwords from the Secret', () => {
  const values = parse(readFileSync(path.join(projectRoot, 'deploy', 'kubernetes', 'nats', 'values.yaml'), 'utf8')) as {
    config: { cluster: { enabled: boolean; replicas: number }; jetstream: { fileStore: { enabled: boolean; pvc: { enabled: boolean } } }; merge: { authorization: { users: { user: string; password: string; permissions: { publish: { allow: string[] } } }[] } } };
    container: { env: Record<string, { valueFrom: { secretKeyRef: { name: string; key: string } } }> };
  };
  expect(values.config.cluster).toEqual({ enabled: true, replicas: 3 });
  expect(values.config.jetstream.fileStore).toMatchObject({ enabled: true, pvc: { enabled: true } });
  const users = values.config.merge.authorization.users;
  expect(users.map((u) => u.user)).toEqual(natsUserNames);
  for (const u of users) {
    const variable = passwordVariable(u.user as (typeof natsUserNames)[number]);
    expect(u.password).toBe(`<< $${variable} >>`);
    expect(u.permissions.publish.allow).toEqual(natsUsers[u.user as (typeof natsUserNames)[number]].publish);
    expect(values.container.env[variable]?.valueFrom.secretKeyRef).toEqual({ name: 'tps-nats-users', key: u.user });
  }
});
