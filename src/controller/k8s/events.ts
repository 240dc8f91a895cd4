/**
 * Phase changes on Kubernetes: one core/v1 Event per change, about the rollout's state ConfigMap (so
 * `kubectl describe configmap <rollout>-rollout-state` and `kubectl get events` show them), and a status
 * annotation on the HTTPRoute (`model-rollout.dev/status`, JSON) a dashboard reads without RBAC on ConfigMaps.
 *
 * Events follow the Event API: `reason` is a short CamelCase machine-readable string, `type` Normal or Warning,
 * `involvedObject` a full object reference (with its uid: `kubectl describe` selects events by it), the name
 * `<object>.<unique suffix>` as client-go's recorder names them.
 * @see https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/
 * @see https://github.com/kubernetes/client-go/blob/master/tools/record/event.go (makeEvent)
 * Best-effort: the tick calls this after its actions; a refusal is logged by the tick and never fails it.
 */
import * as os from 'os';
import { KubeClient, paths } from './kube-client';
import { KubernetesTarget } from '../../core/contract/target';
import { ANNOTATION_STATUS, statusAnnotation, Transition } from '../../core/history';
import { RolloutSpec } from '../../core/spec';
import { ControllerState } from '../../core/state';
import { notPublished } from '../errors';
import { TransitionSink } from '../tick';

/** Who reports the events (`source.component`, `reportingComponent`). */
const EVENT_COMPONENT = 'model-rollout-controller';

/** Where a rollout's events and status go. */
export interface KubeEventTarget {
  readonly namespace: string;
  readonly stateConfigMap: string;
  readonly target: KubernetesTarget;
}

export class KubeEventSink implements TransitionSink {
  constructor(private readonly kube: KubeClient, private readonly where: KubeEventTarget, private readonly now: () => number = Date.now) {}

  public async publish(spec: RolloutSpec, state: ControllerState, events: readonly Transition[], changed: boolean): Promise<void> {
    const errors: string[] = [];
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        errors.push(`${what}: ${(e as Error).message}`);
      }
    };
    if (events.length > 0) await attempt('events', () => this.createEvents(events));
    if (changed || events.length > 0) await attempt('status annotation', () => this.annotateRoute(spec, state));
    if (errors.length > 0) throw notPublished(errors);
  }

  private async createEvents(events: readonly Transition[]): Promise<void> {
    const { namespace, stateConfigMap } = this.where;
    const cm = await this.kube.get(paths.configMap(namespace, stateConfigMap));
    const uid = (cm.metadata as { uid?: string }).uid;
    const time = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const instance = os.hostname();
    for (const [i, e] of events.entries()) {
      await this.kube.create(`/api/v1/namespaces/${namespace}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${stateConfigMap}.${this.now().toString(16)}${i}`, namespace },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: stateConfigMap,
          namespace,
          ...(uid ? { uid } : {}),
          ...(cm.metadata.resourceVersion ? { resourceVersion: cm.metadata.resourceVersion } : {}),
        },
        reason: e.reason,
        type: e.type,
        message: e.message.slice(0, 1024),
        source: { component: EVENT_COMPONENT },
        reportingComponent: EVENT_COMPONENT,
        reportingInstance: instance,
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      });
    }
  }

  /** Merge patch of one annotation: nothing else on the route is touched (apply keeps unmanaged annotations). */
  private async annotateRoute(spec: RolloutSpec, state: ControllerState): Promise<void> {
    const { target } = this.where;
    await this.kube.mergePatch(paths.httpRoute(target.namespace, target.httpRoute), {
      metadata: { annotations: { [ANNOTATION_STATUS]: statusAnnotation(spec, state) } },
    });
  }
}

/**
 * A Warning Event `TickFailed` on the rollout's state ConfigMap: a rollout whose tick failed says so on the rollout
 * (`kubectl describe configmap <rollout>-rollout-state`, `kubectl get events`) while the Job succeeds.
 */
export async function reportTickFailure(kube: KubeClient, namespace: string, stateConfigMap: string, error: string, now: number): Promise<void> {
  const time = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const cm = await kube.get(paths.configMap(namespace, stateConfigMap)).catch(() => undefined);
  const uid = (cm?.metadata as { uid?: string } | undefined)?.uid;
  await kube.create(`/api/v1/namespaces/${namespace}/events`, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${stateConfigMap}.${now.toString(16)}f`, namespace },
    involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', name: stateConfigMap, namespace, ...(uid ? { uid } : {}) },
    reason: 'TickFailed',
    type: 'Warning',
    message: error.slice(0, 1024),
    source: { component: EVENT_COMPONENT },
    reportingComponent: EVENT_COMPONENT,
    reportingInstance: os.hostname(),
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  });
}
