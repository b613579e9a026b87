// The Kubernetes base (deploy/kubernetes/base/) and the NATS Helm chart's values, written from the
// same tables as compose: a Deployment, Service and PodDisruptionBudget per role (roles.ts), a KEDA
// ScaledObject per worker pool on its consumer's lag (pools.ts), the provisioning Job, and the
// NATS users with their permissions (permissions.ts). Overlays (lab, production) are hand-written
// and only patch these. tests/kubernetes.test.ts renders every overlay and validates the objects.
import { stringify } from 'yaml';
import { labPassword } from './compose.ts';
import { envSchema } from '#platform/config-schema.ts';
import { natsUserNames, natsUsers, passwordVariable, type NatsUserName } from '#platform/nats/permissions.ts';
import { poolDefinitions, poolNames, workerReplicas, workerRole, type Pool } from '#platform/pools.ts';
import { chainRoleNames, roleSpecs, type RoleSpec } from '#platform/roles.ts';

const header = (what: string) => `# ${what}\n# Generated from platform/ by \`make generate\`; do not edit by hand (patch it in an overlay).\n`;
const docs = (objects: readonly object[]) => objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');

/** The Secret every role reads its NATS password from, one key per NATS user (docs/kubernetes.md). */
export const natsSecret = 'tps-nats-users';
/** The NATS Helm release's name: its client Service is `nats`, its monitoring port 8222. */
export const natsRelease = 'nats';
/** The namespace the base assumes; an overlay that moves it patches the KEDA endpoints too (the test checks). */
export const baseNamespace = 'tps-lab';
export const image = 'tps-lab:local';
/** SHUTDOWN_GRACE_MS bounds each step of a role's shutdown (jobs, NATS, HTTP): Kubernetes waits for
 * all three and a margin before it kills, so a worker scaled in finishes or hands back its jobs. */
const stepSeconds = Math.ceil(envSchema.parse({}).SHUTDOWN_GRACE_MS / 1000);
export const terminationGraceSeconds = 3 * stepSeconds + 10;

const labels = (role: string) => ({ 'app.kubernetes.io/name': role, 'app.kubernetes.io/part-of': 'tps-lab' });
const isWorker = (r: RoleSpec) => r.pool !== undefined;
/** Roles that serve requests from other pods (ingress, the chain): they wait out the endpoint update before stopping. */
const servesTraffic = (r: RoleSpec) => r.name === 'ingress' || (chainRoleNames as readonly string[]).includes(r.name);

/** What every TPS container has: the image, the shared configuration, its NATS user, a read-only root. */
function tpsContainer(name: string, args: string[], user: NatsUserName): Record<string, unknown> {
  return {
    name, image, args,
    envFrom: [{ configMapRef: { name: 'tps-config' } }],
    env: [
      { name: 'NATS_USER', value: user },
      { name: 'NATS_PASSWORD', valueFrom: { secretKeyRef: { name: natsSecret, key: user } } },
    ],
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
}
const podSecurity = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } };
const tmpVolume = { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } };

function container(r: RoleSpec): object {
  const probe = (path: string, periodSeconds: number) => ({ httpGet: { path, port: 'http' }, periodSeconds, timeoutSeconds: 3, failureThreshold: 3 });
  return {
    ...tpsContainer(r.name, ['run', r.name], r.natsUser),
    ports: [{ name: 'http', containerPort: r.port }],
    readinessProbe: probe('/readyz', 5),
    livenessProbe: { ...probe('/healthz', 10), initialDelaySeconds: 10 },
    ...(servesTraffic(r) ? { lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } } } : {}),
  };
}

function deployment(r: RoleSpec): object {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: r.name, labels: labels(r.name) },
    spec: {
      replicas: r.pool ? poolDefinitions[r.pool].composeReplicas : 1,
      selector: { matchLabels: labels(r.name) },
      template: {
        metadata: { labels: labels(r.name), annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(r.port), 'prometheus.io/path': '/metrics' } },
        spec: {
          // Longer than a worker's drain (SHUTDOWN_GRACE_MS), so a scale-in finishes its jobs.
          terminationGracePeriodSeconds: terminationGraceSeconds,
          automountServiceAccountToken: false,
          securityContext: podSecurity,
          containers: [container(r)],
          volumes: [tmpVolume],
        },
      },
    },
  };
}

const service = (r: RoleSpec): object => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: r.name, labels: labels(r.name) },
  spec: { selector: labels(r.name), ports: [{ name: 'http', port: r.port, targetPort: 'http' }] },
});

const disruptionBudget = (r: RoleSpec): object => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: r.name, labels: labels(r.name) },
  spec: { maxUnavailable: 1, selector: { matchLabels: labels(r.name) } },
});

export function rolesManifest(): string {
  return header('Every TPS Lab role: its Deployment, Service and PodDisruptionBudget (platform/roles.ts).') + docs(roleSpecs.flatMap((r) => [deployment(r), service(r), disruptionBudget(r)]));
}

/** A backlog per worker process at which KEDA adds one: four jobs per slot the pool starts with. */
export const lagPerWorker = (pool: Pool) => poolDefinitions[pool].slots.initial * 4;

const scaledObject = (pool: Pool): object => ({
  apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: workerRole(pool), labels: labels(workerRole(pool)) },
  spec: {
    scaleTargetRef: { name: workerRole(pool) },
    minReplicaCount: workerReplicas.min, maxReplicaCount: workerReplicas.max,
    pollingInterval: 10, cooldownPeriod: 120,
    triggers: [{
      type: 'nats-jetstream',
      metadata: {
        natsServerMonitoringEndpoint: `${natsRelease}.${baseNamespace}.svc.cluster.local:8222`,
        account: '$G', stream: poolDefinitions[pool].stream, consumer: poolDefinitions[pool].consumer,
        lagThreshold: String(lagPerWorker(pool)), activationLagThreshold: '0',
      },
    }],
  },
});

export function scaledObjectsManifest(): string {
  return header('KEDA scales each worker pool\'s Deployment on its durable consumer\'s lag (platform/pools.ts).') + docs(poolNames.map(scaledObject));
}

export function provisionJobManifest(): string {
  const job = {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'tps-provision', labels: labels('tps-provision') },
    spec: {
      backoffLimit: 20, ttlSecondsAfterFinished: 600,
      template: {
        metadata: { labels: labels('tps-provision') },
        spec: {
          restartPolicy: 'OnFailure', automountServiceAccountToken: false,
          securityContext: podSecurity,
          containers: [tpsContainer('provision', ['provision'], 'operator')],
          volumes: [tmpVolume],
        },
      },
    },
  };
  return header('Creates or updates the streams, consumers and buckets (tps provision), R3 on the three-node NATS.') + docs([job]);
}

/** The values of the official NATS chart (nats-io/k8s, helm/charts/nats): three servers, file storage, our users. */
export function natsValues(): string {
  const user = (name: NatsUserName) => ({
    user: name, password: `<< $${passwordVariable(name)} >>`,
    permissions: { publish: { allow: natsUsers[name].publish }, subscribe: { allow: natsUsers[name].subscribe } },
  });
  const values = {
    config: {
      cluster: { enabled: true, replicas: 3 },
      jetstream: { enabled: true, fileStore: { enabled: true, pvc: { enabled: true, size: '10Gi' } }, memoryStore: { enabled: false } },
      monitor: { enabled: true, port: 8222 },
      merge: { authorization: { users: natsUserNames.map(user) } },
    },
    container: {
      env: Object.fromEntries(natsUserNames.map((name) => [passwordVariable(name), { valueFrom: { secretKeyRef: { name: natsSecret, key: name } } }])),
    },
  };
  return header('Values for the official NATS Helm chart: helm install nats nats/nats -n tps-lab -f deploy/kubernetes/nats/values.yaml')
    + stringify(values, { lineWidth: 0 });
}

export const kubernetesFiles = (): Record<string, string> => ({
  'deploy/kubernetes/base/roles.yaml': rolesManifest(),
  'deploy/kubernetes/base/scaledobjects.yaml': scaledObjectsManifest(),
  'deploy/kubernetes/base/provision-job.yaml': provisionJobManifest(),
  'deploy/kubernetes/nats/values.yaml': natsValues(),
});

/** The shared configuration every role reads (tps-config), as kustomize literals. */
export function configLiterals(indent: string): string[] {
  const chain = chainRoleNames.map((name) => `${name.replace('service-', 'SERVICE_').toUpperCase().replace(/-/g, '_')}_URL=http://${name}:${roleSpecs.find((r) => r.name === name)?.port}`);
  return ['NATS_URL=nats://nats:4222', 'NATS_STREAM_REPLICAS=3', 'HTTP_HOST=0.0.0.0', 'LOG_LEVEL=info', 'TPS_STATE_DIR=/tmp/tps', ...chain.sort()].map((l) => `${indent}- ${l}`);
}

/** The lab overlay's Secret: each NATS user's documented lab password (tps-lab-<user>, as compose's defaults). */
export function labPasswordLiterals(indent: string): string[] {
  return natsUserNames.map((name) => `${indent}- ${name}=${labPassword(name)}`);
}
