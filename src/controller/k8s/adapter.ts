/**
 * The Kubernetes adapter: the controller's ports over the API (see ../README.md for the exact calls and RBAC).
 */
import { KubeClient, KubeObject, movedOn, paths } from './kube-client';
import { STATE_KEY_COMMAND, STATE_KEY_SPEC, STATE_KEY_STATE, STATE_KEY_TARGET } from '../../core/constants';
import { KubernetesTarget } from '../../core/contract/target';
import { NotifierConfig, STATE_KEY_NOTIFY } from '../../core/notifications';
import { HttpRouteRule, mirrorsFromRules, renderHttpRouteRules, weightsFromRules } from '../../core/routes/gateway-api';
import { isRuntimeError, RolloutRuntimeError } from '../../core/runtime-errors';
import { RolloutSpec } from '../../core/spec';
import { Command, ControllerState, ShadowRoute } from '../../core/state';
import { Weights } from '../../core/weights';
import * as errors from '../errors';
import { HttpError } from '../http-request';
import { parseDocument } from '../parsed-document';
import { Capacity, ConflictError, StateStore, StoredRollout, TrafficRouter } from '../ports';

/** Where the rollout's ConfigMaps are. */
export interface KubeRolloutLocation {
  readonly namespace: string;
  readonly specConfigMap: string;
  readonly stateConfigMap: string;
}

/** Spec and target from the spec ConfigMap; state and the command queue from the state ConfigMap. */
export class ConfigMapStore implements StateStore {
  /** The target read with the spec (the other ports need it). */
  public target?: KubernetesTarget;
  public spec?: RolloutSpec;
  /** The notifiers read with the spec (`notify.json`), when the rollout has some. */
  public notifications?: NotifierConfig[];
  private hasData = false;
  /** A read the next `read()` may reuse (`prime`): one read of spec and state per rollout per tick. */
  private primed?: { readonly at: number; readonly stored: StoredRollout };

  constructor(private readonly kube: KubeClient, private readonly where: KubeRolloutLocation) {}

  private get statePath(): string {
    return paths.configMap(this.where.namespace, this.where.stateConfigMap);
  }

  /**
   * Read spec and state now and let the next `read()` reuse them if it comes within `maxAgeMs`. Safe because every
   * write is guarded by the resourceVersion read: a command that lands in between makes the write conflict and the
   * tick read again (tick.ts), and an action decided on the older read is fenced.
   */
  public async prime(maxAgeMs: number): Promise<StoredRollout> {
    const stored = await this.read();
    this.primed = { at: Date.now() + maxAgeMs, stored };
    return stored;
  }

  public async read(): Promise<StoredRollout> {
    const primed = this.primed;
    this.primed = undefined;
    if (primed && Date.now() <= primed.at) return primed.stored;
    const [specCm, stateCm] = await Promise.all([
      this.kube.get(paths.configMap(this.where.namespace, this.where.specConfigMap)),
      this.kube.get(this.statePath),
    ]);
    const data = specCm.data ?? {};
    if (!data[STATE_KEY_SPEC] || !data[STATE_KEY_TARGET]) {
      throw errors.specConfigMapIncomplete(this.where.specConfigMap, STATE_KEY_SPEC, STATE_KEY_TARGET);
    }
    this.spec = parseDocument<RolloutSpec>(data[STATE_KEY_SPEC]);
    this.target = parseDocument<KubernetesTarget>(data[STATE_KEY_TARGET]);
    this.notifications = data[STATE_KEY_NOTIFY] ? JSON.parse(data[STATE_KEY_NOTIFY]) as NotifierConfig[] : undefined;
    const stateData: Record<string, string> = stateCm.data ?? {};
    this.hasData = stateCm.data !== undefined && stateCm.data !== null;
    const queue = parseCommands(stateData[STATE_KEY_COMMAND]);
    return {
      spec: this.spec,
      target: this.target,
      state: stateData[STATE_KEY_STATE] ? JSON.parse(stateData[STATE_KEY_STATE]) as ControllerState : undefined,
      ...queue,
      version: stateCm.metadata.resourceVersion ?? '',
    };
  }

  /**
   * Only the state key is written (the command queue is the CLI's), guarded by a `test` of the resourceVersion
   * read: a concurrent tick or command makes it fail. Resolves with the new resourceVersion.
   */
  public async writeState(state: ControllerState, version: string): Promise<string> {
    const rv = await this.patchGuarded(version, STATE_KEY_STATE, JSON.stringify(state), this.hasData);
    return rv;
  }

  public async currentVersion(): Promise<string> {
    return (await this.kube.get(this.statePath)).metadata.resourceVersion ?? '';
  }

  /**
   * Append a command to the queue (the CLI): read, drop the commands the state has handled, append with the next
   * `seq`, write guarded by the resourceVersion; on a conflict (a tick or another CLI wrote between), read again
   * and retry. Resolves only once the command is stored.
   */
  public async appendCommand(kind: Command['kind'], id: string, at: number, attempts = 8): Promise<Command> {
    for (let attempt = 1; ; attempt++) {
      const cm = await this.kube.get(this.statePath);
      const data: Record<string, string> = cm.data ?? {};
      const state = data[STATE_KEY_STATE] ? JSON.parse(data[STATE_KEY_STATE]) as ControllerState : undefined;
      const { command: legacy, commands = [] } = parseCommands(data[STATE_KEY_COMMAND]);
      const queue = [...commands, ...(legacy ? [legacy] : [])].filter((c) => !handled(c, state));
      const seq = Math.max(state?.commandSeq ?? 0, ...commands.map((c) => c.seq ?? 0)) + 1;
      const command: Command = { id, kind, at, seq };
      try {
        await this.patchGuarded(cm.metadata.resourceVersion ?? '', STATE_KEY_COMMAND, JSON.stringify([...queue, command]), cm.data !== undefined && cm.data !== null);
        return command;
      } catch (e) {
        if (!isRuntimeError(e, 'conflict') || attempt >= attempts) throw e;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  /** JSON patch of one key of the state ConfigMap, guarded by a `test` of `/metadata/resourceVersion`. */
  private async patchGuarded(version: string, key: string, value: string, hasData: boolean): Promise<string> {
    const escaped = key.replace(/~/g, '~0').replace(/\//g, '~1');
    try {
      const out = await this.kube.jsonPatch(this.statePath, [
        { op: 'test', path: '/metadata/resourceVersion', value: version },
        hasData ? { op: 'add', path: `/data/${escaped}`, value } : { op: 'add', path: '/data', value: { [key]: value } },
      ]);
      return out.metadata?.resourceVersion ?? '';
    } catch (e) {
      // a failed `test` of the resourceVersion is a conflict; any other 422 is the API refusing the patch for good
      if (await movedOn(this.kube, this.statePath, e, version)) {
        throw new ConflictError(`state ConfigMap ${this.where.stateConfigMap} changed since resourceVersion ${version}`);
      }
      if (e instanceof HttpError && e.status === 422) {
        throw new RolloutRuntimeError('rejected', `state ConfigMap ${this.where.stateConfigMap} refuses writes (${e.message}): is it immutable?`, 422);
      }
      throw e;
    }
  }
}

/** The command key: a queue (array, this CLI) or a single command (older CLIs). */
function parseCommands(raw: string | undefined): { command?: Command; commands?: Command[] } {
  if (!raw) return {};
  const parsed = JSON.parse(raw) as Command | Command[];
  return Array.isArray(parsed) ? { commands: parsed } : { command: parsed };
}

/** Whether a command was handled by the state (by `seq`, or by id for a legacy one). */
export function handled(c: Command, state: ControllerState | undefined): boolean {
  if (!state) return false;
  return c.seq !== undefined ? c.seq <= (state.commandSeq ?? 0) : c.id === state.lastCommandId;
}


export { weightsFromRules };

/** The HTTPRoute as the router. */
export class HttpRouteRouter implements TrafficRouter {
  /** The rules of the last read, for `readMirrors` (one GET per tick for both). */
  private lastRules?: readonly any[];

  constructor(private readonly kube: KubeClient, private readonly spec: RolloutSpec, private readonly target: KubernetesTarget) {}

  public async readWeights(): Promise<Weights | undefined> {
    const route = await this.kube.get(paths.httpRoute(this.target.namespace, this.target.httpRoute));
    this.lastRules = route.spec?.rules ?? [];
    return weightsFromRules(this.spec, this.target, this.lastRules as HttpRouteRule[]);
  }

  public async readMirrors(): Promise<ShadowRoute[] | undefined> {
    return this.lastRules ? mirrorsFromRules(this.target, this.lastRules as HttpRouteRule[]) : undefined;
  }

  /**
   * `RequestMirror.percent` exists from Gateway API v1.3 (standard channel): an older CRD prunes it silently, and the
   * gateway then mirrors every request to a shadow sized for a few percent. When the answer lost it, the mirror is
   * taken off the route and the tick fails with the fix (upgrade the CRDs, or leave the mirror out).
   */
  private async guardMirrorPercent(sent: readonly any[], written: KubeObject): Promise<void> {
    if (!mirrorsAShare(sent) || mirrorsAShare(written.spec?.rules ?? [])) return;
    const withoutMirror = sent.map((r) => ({ ...r, filters: (r.filters ?? []).filter((f: any) => f.type !== 'RequestMirror') }))
      .map((r) => (r.filters.length > 0 ? r : (({ filters: _f, ...rest }) => rest)(r)));
    await this.kube.jsonPatch(paths.httpRoute(this.target.namespace, this.target.httpRoute), [{ op: 'replace', path: '/spec/rules', value: withoutMirror }]);
    throw new RolloutRuntimeError('rejected', 'the HTTPRoute CRD dropped RequestMirror.percent (Gateway API before v1.3 mirrors 100 %): the mirror is off; '
      + 'install the Gateway API v1.3+ standard CRDs (and Istio 1.24+), or leave the mirror out of the rollout');
  }

  public async setWeights(weights: Weights, shadow?: ShadowRoute): Promise<void> {
    const rules = renderHttpRouteRules(this.spec, this.target, weights, shadow);
    for (let attempt = 0; ; attempt++) {
      const route = await this.kube.get(paths.httpRoute(this.target.namespace, this.target.httpRoute));
      try {
        const written = await this.kube.jsonPatch(paths.httpRoute(this.target.namespace, this.target.httpRoute), [
          { op: 'test', path: '/metadata/resourceVersion', value: route.metadata.resourceVersion },
          { op: 'replace', path: '/spec/rules', value: rules },
        ]);
        await this.guardMirrorPercent(rules, written);
        return;
      } catch (e) {
        // someone else (kubectl apply, Argo CD) changed the route between our read and write: read again, once
        const where = paths.httpRoute(this.target.namespace, this.target.httpRoute);
        if (attempt >= 1 || !(await movedOn(this.kube, where, e, route.metadata.resourceVersion))) throw e;
      }
    }
  }
}

/** Whether any rule mirrors a share of requests (`RequestMirror.percent`). */
function mirrorsAShare(rules: readonly any[]): boolean {
  return rules.some((r) => (r.filters ?? []).some((f: any) => f.type === 'RequestMirror' && f.requestMirror?.percent !== undefined));
}

/**
 * Deployments, ScaledObjects and HPAs as the capacity port. One instance serves one tick: each object is read once
 * (ready replicas, floors and live replicas come from the same Deployment), and a write through this port forgets
 * what was read, so a tick's later pass reads what it wrote.
 */
export class WorkloadCapacity implements Capacity {
  private readonly reads = new Map<string, Promise<KubeObject>>();

  constructor(private readonly kube: KubeClient, private readonly target: KubernetesTarget) {}

  private get(path: string): Promise<KubeObject> {
    let read = this.reads.get(path);
    if (!read) {
      read = this.kube.get(path);
      // a failed read is not remembered: the next port call tries again
      read.catch(() => this.reads.delete(path));
      this.reads.set(path, read);
    }
    return read;
  }

  public async readyReplicas(versions: readonly string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(versions.map(async (v) => {
      const b = this.target.backends[v];
      if (!b) return;
      const d = await this.get(paths.deployment(this.target.namespace, b.deployment));
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
      if (b.scaledObject) out[v] = (await this.get(paths.scaledObject(ns, b.scaledObject))).spec?.minReplicaCount ?? 0;
      else if (b.hpa) out[v] = (await this.get(paths.hpa(ns, b.hpa))).spec?.minReplicas ?? 1;
      else out[v] = (await this.get(paths.deployment(ns, b.deployment))).spec?.replicas ?? 0;
    }));
    return out;
  }

  /**
   * The lowest floor each workload holds: a ScaledObject's `minReplicaCount` and a Deployment's `replicas` go to 0,
   * an HPA's `minReplicas` is at least 1 (autoscaling/v2 HorizontalPodAutoscalerSpec: 0 only with the alpha
   * HPAScaleToZero feature gate), which `setFloor` follows.
   */
  public lowestFloors(versions: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const v of versions) {
      const b = this.target.backends[v];
      if (b) out[v] = !b.scaledObject && b.hpa ? 1 : 0;
    }
    return out;
  }

  /**
   * What each version's autoscaler wants now: for an HPA its `status.desiredReplicas`, never below the
   * Deployment's `spec.replicas` (what the autoscaler last wrote through the scale subresource). A ScaledObject's
   * HPA is KEDA's own (`status.hpaName`, by default `keda-hpa-<scaledobject>`: kedacore/keda
   * controllers/keda/hpa.go `getHPAName`), outside the Role's `resourceNames`; it writes its desired count to the
   * Deployment's scale, so the Deployment's `spec.replicas` is read instead. An HPA that cannot be read falls back
   * to the Deployment too.
   */
  public async desiredReplicas(versions: readonly string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const ns = this.target.namespace;
    await Promise.all(versions.map(async (v) => {
      const b = this.target.backends[v];
      if (!b) return;
      const [d, hpa] = await Promise.all([
        this.get(paths.deployment(ns, b.deployment)),
        b.hpa && !b.scaledObject ? this.get(paths.hpa(ns, b.hpa)).catch(() => undefined) : Promise.resolve(undefined),
      ]);
      out[v] = Math.max(d.spec?.replicas ?? 0, hpa?.status?.desiredReplicas ?? 0);
    }));
    return out;
  }

  public async setFloor(version: string, replicas: number): Promise<void> {
    const b = this.target.backends[version];
    // a version that left the target is no longer rendered: its objects go with the next apply (prune)
    if (!b && replicas === 0) return;
    if (!b) throw errors.noBackendForVersion(version);
    const ns = this.target.namespace;
    this.reads.clear();
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
