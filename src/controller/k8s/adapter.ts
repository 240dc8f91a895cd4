/**
 * The Kubernetes adapter: the controller's ports over the API (see ../README.md for the exact calls and RBAC).
 */
import { isConflict, KubeClient, paths } from './kube-client';
import { BUCKET_HEADER, STATE_KEY_COMMAND, STATE_KEY_SPEC, STATE_KEY_STATE, STATE_KEY_TARGET } from '../../core/constants';
import { KubernetesTarget } from '../../core/contract/target';
import { HttpRouteRule, renderHttpRouteRules } from '../../core/routes/gateway-api';
import { RolloutSpec } from '../../core/spec';
import { Command, ControllerState } from '../../core/state';
import { Weights } from '../../core/weights';
import { Capacity, ConflictError, StateStore, StoredRollout, TrafficRouter } from '../ports';

/** Where the rollout's ConfigMaps are. */
export interface KubeRolloutLocation {
  readonly namespace: string;
  readonly specConfigMap: string;
  readonly stateConfigMap: string;
}

/** Spec and target from the spec ConfigMap; state and command from the state ConfigMap. */
export class ConfigMapStore implements StateStore {
  /** The target read with the spec (the other ports need it). */
  public target?: KubernetesTarget;
  public spec?: RolloutSpec;
  private stateData: Record<string, string> = {};

  constructor(private readonly kube: KubeClient, private readonly where: KubeRolloutLocation) {}

  public async read(): Promise<StoredRollout> {
    const [specCm, stateCm] = await Promise.all([
      this.kube.get(paths.configMap(this.where.namespace, this.where.specConfigMap)),
      this.kube.get(paths.configMap(this.where.namespace, this.where.stateConfigMap)),
    ]);
    const data = specCm.data ?? {};
    if (!data[STATE_KEY_SPEC] || !data[STATE_KEY_TARGET]) {
      throw new Error(`ConfigMap ${this.where.specConfigMap} lacks ${STATE_KEY_SPEC} or ${STATE_KEY_TARGET}`);
    }
    this.spec = JSON.parse(data[STATE_KEY_SPEC]) as RolloutSpec;
    this.target = JSON.parse(data[STATE_KEY_TARGET]) as KubernetesTarget;
    const stateData: Record<string, string> = stateCm.data ?? {};
    this.stateData = stateData;
    return {
      spec: this.spec,
      target: this.target,
      state: stateData[STATE_KEY_STATE] ? JSON.parse(stateData[STATE_KEY_STATE]) as ControllerState : undefined,
      command: stateData[STATE_KEY_COMMAND] ? JSON.parse(stateData[STATE_KEY_COMMAND]) as Command : undefined,
      version: stateCm.metadata.resourceVersion ?? '',
    };
  }

  public async writeState(state: ControllerState, version: string): Promise<void> {
    // `add /data` replaces the whole map: keep what was read (the command), the resourceVersion test guards it
    try {
      await this.kube.jsonPatch(paths.configMap(this.where.namespace, this.where.stateConfigMap), [
        { op: 'test', path: '/metadata/resourceVersion', value: version },
        { op: 'add', path: '/data', value: { ...this.stateData, [STATE_KEY_STATE]: JSON.stringify(state) } },
      ]);
    } catch (e) {
      if (isConflict(e)) throw new ConflictError(`state ConfigMap ${this.where.stateConfigMap} changed since resourceVersion ${version}`);
      throw e;
    }
  }

  /** Record a command for the next tick (the CLI). */
  public async writeCommand(command: Command): Promise<void> {
    const cm = await this.kube.get(paths.configMap(this.where.namespace, this.where.stateConfigMap));
    await this.kube.jsonPatch(paths.configMap(this.where.namespace, this.where.stateConfigMap), [
      { op: 'test', path: '/metadata/resourceVersion', value: cm.metadata.resourceVersion },
      { op: 'add', path: '/data', value: { ...(cm.data ?? {}), [STATE_KEY_COMMAND]: JSON.stringify(command) } },
    ]);
  }
}

/** Weights from HTTPRoute rules rendered by `renderHttpRouteRules` (random: backendRef weights; sticky: bucket ranges). */
export function weightsFromRules(spec: RolloutSpec, target: KubernetesTarget, rules: readonly HttpRouteRule[]): Weights | undefined {
  const byService = new Map(Object.entries(target.backends).map(([v, b]) => [b.service, v]));
  const versions = [spec.stable, ...spec.canaries.map((c) => c.version)];
  const weights: Weights = Object.fromEntries(versions.map((v) => [v, 0]));
  const isPin = (r: HttpRouteRule) => r.matches.some((m) => (m.headers ?? []).some((h) => h.type === 'Exact') || (m.queryParams ?? []).length > 0);
  const body = rules.filter((r) => !isPin(r));
  if (target.routing.kind === 'random') {
    const split = body.find((r) => r.backendRefs.length > 0);
    if (!split) return undefined;
    for (const ref of split.backendRefs) {
      const v = byService.get(ref.name);
      if (v && v in weights) weights[v] = ref.weight ?? 1;
    }
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    return total === 100 ? weights : undefined;
  }
  let canaryTotal = 0;
  for (const r of body) {
    const header = r.matches.flatMap((m) => m.headers ?? []).find((h) => h.name === BUCKET_HEADER);
    if (!header) continue;
    const v = byService.get(r.backendRefs[0]?.name ?? '');
    const buckets = /^\^\((.*)\)\$$/.exec(header.value)?.[1].split('|').filter((x) => x !== '').length ?? 0;
    if (v && v !== spec.stable) {
      weights[v] = buckets;
      canaryTotal += buckets;
    }
  }
  weights[spec.stable] = 100 - canaryTotal;
  return weights;
}

/** The HTTPRoute as the router. */
export class HttpRouteRouter implements TrafficRouter {
  constructor(private readonly kube: KubeClient, private readonly spec: RolloutSpec, private readonly target: KubernetesTarget) {}

  public async readWeights(): Promise<Weights | undefined> {
    const route = await this.kube.get(paths.httpRoute(this.target.namespace, this.target.httpRoute));
    return weightsFromRules(this.spec, this.target, route.spec?.rules ?? []);
  }

  public async setWeights(weights: Weights): Promise<void> {
    const rules = renderHttpRouteRules(this.spec, this.target, weights);
    for (let attempt = 0; ; attempt++) {
      const route = await this.kube.get(paths.httpRoute(this.target.namespace, this.target.httpRoute));
      try {
        await this.kube.jsonPatch(paths.httpRoute(this.target.namespace, this.target.httpRoute), [
          { op: 'test', path: '/metadata/resourceVersion', value: route.metadata.resourceVersion },
          { op: 'replace', path: '/spec/rules', value: rules },
        ]);
        return;
      } catch (e) {
        // someone else (kubectl apply, Argo CD) changed the route between our read and write: read again, once
        if (!isConflict(e) || attempt >= 1) throw e;
      }
    }
  }
}

/** Deployments, ScaledObjects and HPAs as the capacity port. */
export class WorkloadCapacity implements Capacity {
  constructor(private readonly kube: KubeClient, private readonly target: KubernetesTarget) {}

  public async readyReplicas(versions: readonly string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(versions.map(async (v) => {
      const b = this.target.backends[v];
      if (!b) return;
      const d = await this.kube.get(paths.deployment(this.target.namespace, b.deployment));
      out[v] = d.status?.readyReplicas ?? 0;
    }));
    return out;
  }

  public async floors(versions: readonly string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(versions.map(async (v) => {
      const b = this.target.backends[v];
      if (!b) return;
      const ns = this.target.namespace;
      if (b.scaledObject) out[v] = (await this.kube.get(paths.scaledObject(ns, b.scaledObject))).spec?.minReplicaCount ?? 0;
      else if (b.hpa) out[v] = (await this.kube.get(paths.hpa(ns, b.hpa))).spec?.minReplicas ?? 1;
      else out[v] = (await this.kube.get(paths.deployment(ns, b.deployment))).spec?.replicas ?? 0;
    }));
    return out;
  }

  public async setFloor(version: string, replicas: number): Promise<void> {
    const b = this.target.backends[version];
    if (!b) throw new Error(`no Kubernetes backend for version "${version}" in the rollout target`);
    const ns = this.target.namespace;
    if (b.scaledObject) {
      const so = await this.kube.get(paths.scaledObject(ns, b.scaledObject));
      const max = so.spec?.maxReplicaCount;
      await this.kube.mergePatch(paths.scaledObject(ns, b.scaledObject), {
        spec: { minReplicaCount: replicas, ...(max !== undefined && max < replicas ? { maxReplicaCount: replicas } : {}) },
      });
    } else if (b.hpa) {
      const hpa = await this.kube.get(paths.hpa(ns, b.hpa));
      const max = hpa.spec?.maxReplicas ?? replicas;
      const spec = { minReplicas: Math.max(1, replicas), ...(max < replicas ? { maxReplicas: replicas } : {}) };
      await this.kube.mergePatch(paths.hpa(ns, b.hpa), { spec });
    } else {
      await this.kube.mergePatch(paths.deploymentScale(ns, b.deployment), { spec: { replicas } });
    }
  }

  public async scaleDown(version: string): Promise<void> {
    await this.setFloor(version, 0);
  }
}
