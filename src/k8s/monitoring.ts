/**
 * Scraping the model servers: a prometheus-operator `PodMonitor` per environment whose relabeling gives every series
 * the `model`, `environment` and `version` labels the presets' queries select (from the pods' `model-rollout.dev/*`
 * labels). Without it nothing scrapes the pods, the autoscaler's query is empty and the checks have no data.
 *
 * Schema: monitoring.coreos.com/v1 PodMonitor (prometheus-operator `Documentation/api-reference/api.md`,
 * `PodMonitorSpec`: `selector` and `podMetricsEndpoints` required; `PodMetricsEndpoint`: `port` (container port name),
 * `path`, `interval`, `relabelings`; `RelabelConfig`: `sourceLabels`, `targetLabel`, `action` (`replace`), `regex`,
 * `replacement`). No typed model of the CRD ships in node_modules, so `test/k8s/monitoring.test.ts` validates the
 * rendered object against that field list.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { LABEL_ENVIRONMENT, LABEL_MODEL, LABEL_VERSION } from '../core/constants';

/** Prometheus' name of a pod label in service discovery: non-alphanumerics become `_`. */
function podLabelMeta(label: string): string {
  return `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** Props of a `PodMonitor` (internal). */
export interface PodMonitorProps {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: { [key: string]: string };
  readonly model: string;
  readonly environment: string;
  /** Container port name serving metrics. */
  readonly port: string;
  readonly path: string;
  readonly intervalSeconds: number;
}

/** One environment's PodMonitor (internal; created by `Environment`). */
export class PodMonitor extends Construct {
  /** The PodMonitor object (escape hatch). */
  public readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: PodMonitorProps) {
    super(scope, id);
    const relabel = (label: string, target: string) => ({ sourceLabels: [podLabelMeta(label)], targetLabel: target, action: 'replace' });
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: {
        selector: { matchLabels: { [LABEL_MODEL]: props.model, [LABEL_ENVIRONMENT]: props.environment } },
        ...(props.namespace ? { namespaceSelector: { matchNames: [props.namespace] } } : {}),
        podMetricsEndpoints: [{
          port: props.port,
          path: props.path,
          interval: `${props.intervalSeconds}s`,
          relabelings: [
            relabel(LABEL_MODEL, 'model'),
            relabel(LABEL_ENVIRONMENT, 'environment'),
            relabel(LABEL_VERSION, 'version'),
          ],
        }],
      },
    });
  }
}
