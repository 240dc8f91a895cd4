/**
 * The live replicas the Kubernetes adapter reports for live sizing (`WorkloadCapacity.desiredReplicas`), against
 * the kube twin (test/support/kube-twin, the controller's RBAC as a Role), and the tick's best-effort read.
 */
import { WorkloadCapacity } from '../../../src/controller/k8s/adapter';
import { KubeClient, paths } from '../../../src/controller/k8s/kube-client';
import { tick } from '../../../src/controller/tick';
import { KubernetesTarget } from '../../../src/core/contract/target';
import { KubeTwin } from '../../support/kube-twin';
import { RolloutWorld } from '../../support/rollout-world';
import { rolloutSpec } from '../../support/spec-fixture';

const NS = 'models';
const target: KubernetesTarget = {
  kind: 'kubernetes',
  namespace: NS,
  httpRoute: 'llama',
  pathPrefix: '/llama',
  backends: {
    v1: { service: 'llama-v1', port: 8080, deployment: 'llama-v1', hpa: 'llama-v1', baseReplicas: 4 },
    v2: { service: 'llama-v2', port: 8080, deployment: 'llama-v2', scaledObject: 'llama-v2', baseReplicas: 0 },
  },
  routing: { kind: 'random' },
  pins: [],
};

describe('WorkloadCapacity.desiredReplicas', () => {
  let api: KubeTwin;
  beforeEach(async () => {
    api = await KubeTwin.start();
  });
  afterEach(async () => api.stop());

  test("an HPA's status.desiredReplicas (ahead of the Deployment it has not scaled yet); a ScaledObject's Deployment replicas", async () => {
    // GIVEN the HPA of v1 wants 9 while its Deployment still says 7; v2 is scaled by KEDA to 3
    api.seedAt(paths.deployment(NS, 'llama-v1'), { metadata: { name: 'llama-v1' }, spec: { replicas: 7 }, status: { readyReplicas: 7 } } as any);
    api.seedAt(paths.hpa(NS, 'llama-v1'), { metadata: { name: 'llama-v1' }, spec: { minReplicas: 4 }, status: { desiredReplicas: 9 } } as any);
    api.seedAt(paths.deployment(NS, 'llama-v2'), { metadata: { name: 'llama-v2' }, spec: { replicas: 3 }, status: { readyReplicas: 1 } } as any);
    api.seedAt(paths.scaledObject(NS, 'llama-v2'), { metadata: { name: 'llama-v2' }, spec: { minReplicaCount: 2 } } as any);
    // the controller's Role: Deployments, the HPA and the ScaledObject by name (not KEDA's own HPA)
    const token = api.tokenWithRole(NS, 'model-rollout-controller', [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'], resourceNames: ['llama-v1', 'llama-v2'] },
      { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get'], resourceNames: ['llama-v1'] },
      { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: ['get'], resourceNames: ['llama-v2'] },
    ]);
    const capacity = new WorkloadCapacity(new KubeClient({ server: api.url, token }), target);
    // WHEN / THEN
    expect(await capacity.desiredReplicas(['v1', 'v2'])).toEqual({ v1: 9, v2: 3 });
    expect(api.requests.filter((r) => r.status === 403)).toEqual([]);
  });

  test('an HPA that cannot be read falls back to the Deployment', async () => {
    api.seedAt(paths.deployment(NS, 'llama-v1'), { metadata: { name: 'llama-v1' }, spec: { replicas: 7 }, status: { readyReplicas: 7 } } as any);
    const capacity = new WorkloadCapacity(new KubeClient({ server: api.url, token: api.adminToken }), target);
    expect(await capacity.desiredReplicas(['v1'])).toEqual({ v1: 7 });
  });
});

describe('the tick reads live replicas best-effort', () => {
  test('a failed read of the desired replicas is logged and the tick decides from the plan; a good one sizes from the live load', async () => {
    const spec = rolloutSpec();
    // GIVEN a world whose capacity port cannot read desired replicas
    const world = new RolloutWorld(spec, { coldStartMs: 0 });
    const failing = { ...world.ports() };
    (failing as any).capacity = { ...world.ports().capacity, desiredReplicas: async () => { throw new Error('HTTP 403'); } };
    // WHEN
    const r = await tick(failing, 0);
    // THEN the tick went on: the plan's floor for 50 % of 4 stable replicas, and a warning
    expect(r.applied).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 2 }]);
    expect(world.logs.some((l) => l.level === 'warn' && /live replicas could not be read: HTTP 403/.test(String(l.msg)))).toBe(true);
    // WHEN another rollout's port reports the stable version's autoscaler at 12 THEN the floor is sized from 12
    const live = new RolloutWorld(spec, { coldStartMs: 0 });
    const ports = live.ports();
    (ports as any).capacity = { ...ports.capacity, desiredReplicas: async () => ({ v1: 12, v2: 0 }) };
    const r2 = await tick(ports, 0);
    expect(r2.applied).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 6 }]);
    expect(r2.decision?.state.liveReplicas).toBe(12);
  });
});
