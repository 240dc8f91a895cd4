/**
 * Scale to zero through the KEDA HTTP add-on: one HTTPScaledObject per environment scales whichever version is
 * current between 0 and the maximum on concurrent requests, and its interceptor holds requests while a replica
 * starts; a ReferenceGrant lets the environment's HTTPRoute send requests to the interceptor's Service in the
 * add-on's namespace (`keda` by default, `AutoscalingOptions.kedaHttpAddOn`).
 *
 * Supported add-on versions: v0.11 to v0.15 with HTTPScaledObject (the default), v0.14 and later with
 * InterceptorRoute (`ScaleToZeroApi.INTERCEPTOR_ROUTE`). `spec.timeouts` (per-object interceptor timeouts) came
 * with v0.11 (https://github.com/kedacore/http-add-on/issues/1285); without it the global defaults apply (20 s
 * condition wait and 500 ms response header in v0.13 and earlier), and every cold start of a GPU model answers 502. HTTPScaledObject is
 * deprecated from v0.14 in favour of InterceptorRoute; it is still served by v0.15.
 *
 * InterceptorRoute (http.keda.sh/v1beta1, config/crd/bases/http.keda.sh_interceptorroutes.yaml) only routes and
 * measures: the add-on does not create a ScaledObject for it, so we render one with the add-on's `external-push`
 * trigger naming the route (`interceptorRoute` metadata, scaler `keda-add-ons-http-external-scaler.keda:9090`, as
 * the add-on's own e2e tests do: tests/checks/scaling_phase_statefulset). Only fields present in every v1beta1 CRD
 * we found are used: `target`, `rules[].hosts/paths`, `scalingMetric.concurrency`, `timeouts` (`coldStart` and
 * `proxyMode` changed shape between releases).
 * @see https://github.com/kedacore/http-add-on/blob/main/docs/ref/v0.8.0/http_scaled_object.md
 * @see https://gateway-api.sigs.k8s.io/api-types/referencegrant/
 */
import { ApiObject, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { validatePort } from './inputs';
import { NODE_PROVISIONING_SECONDS } from './version-workload';
import { validateDns1123Label } from '../../core/names';
import { KedaHttpAddOnOptions, ScaleToZeroApi } from '../autoscaling';

/** The KEDA HTTP add-on's Services, resolved from `KedaHttpAddOnOptions`. */
export interface KedaHttpAddOn {
  /** The interceptor proxy Service the route sends requests to. */
  readonly interceptor: { readonly name: string; readonly namespace: string; readonly port: number };
  /** `host:port` of the external scaler, which the `external-push` trigger of an InterceptorRoute calls. */
  readonly externalScaler: string;
}

/** The KEDA HTTP add-on's interceptor Service (Helm chart defaults). */
export const KEDA_INTERCEPTOR = { name: 'keda-add-ons-http-interceptor-proxy', namespace: 'keda', port: 8080 };

/** The add-on's Services from the options, checked (DNS-1123 names, ports 1..65535); absent: the chart's defaults. */
export function resolveKedaHttpAddOn(path: string, o: KedaHttpAddOnOptions = {}): KedaHttpAddOn {
  const namespace = o.namespace ?? KEDA_INTERCEPTOR.namespace;
  const name = o.interceptorService ?? KEDA_INTERCEPTOR.name;
  const port = o.interceptorPort ?? KEDA_INTERCEPTOR.port;
  const scaler = o.externalScalerService ?? 'keda-add-ons-http-external-scaler';
  const scalerPort = o.externalScalerPort ?? 9090;
  const p = 'autoscaling.kedaHttpAddOn';
  validateDns1123Label(path, `${p}.namespace`, namespace);
  validateDns1123Label(path, `${p}.interceptorService`, name);
  validateDns1123Label(path, `${p}.externalScalerService`, scaler);
  validatePort(path, `${p}.interceptorPort`, port);
  validatePort(path, `${p}.externalScalerPort`, scalerPort);
  return { interceptor: { name, namespace, port }, externalScaler: `${scaler}.${namespace}:${scalerPort}` };
}

/** Props of `ScaleToZero`. */
export interface ScaleToZeroProps {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: { [key: string]: string };
  readonly hostnames: string[];
  readonly pathPrefix?: string;
  readonly port: number;
  readonly concurrencyTarget: number;
  readonly scaleDownDelay: Duration;
  /** The current version's Deployment and Service name, read late (promotion changes it). */
  readonly currentObjectName: () => string;
  /** The most replicas of the current version, read late. */
  readonly maxReplicas: () => number;
  /** The current version's load timeout, read late. */
  readonly loadTimeout: () => Duration;
  /** Longest a request may wait for its response headers (a non-streaming completion sends them at the end). */
  readonly responseTimeout: Duration;
  /** Which add-on API to render. */
  readonly api: ScaleToZeroApi;
  /** Where the add-on runs. */
  readonly addOn: KedaHttpAddOn;
}

export class ScaleToZero extends Construct {
  /** The route rule that sends every request to the interceptor. */
  public static interceptorRule(pathPrefix: string | undefined, addOn: KedaHttpAddOn): unknown {
    const i = addOn.interceptor;
    return {
      matches: [{ path: { type: 'PathPrefix', value: pathPrefix ?? '/' } }],
      backendRefs: [{ name: i.name, namespace: i.namespace, port: i.port, weight: 1 }],
    };
  }

  constructor(scope: Construct, id: string, props: ScaleToZeroProps) {
    super(scope, id);
    // a request at zero waits for a GPU node and the model load; a non-streaming completion sends its headers
    // only when the whole answer is generated (Go durations)
    const coldStartWait = Lazy.any({ produce: () => `${props.loadTimeout().toSeconds() + NODE_PROVISIONING_SECONDS}s` });
    const responseHeader = `${props.responseTimeout.toSeconds()}s`;
    const target = () => props.currentObjectName();
    if (props.api === ScaleToZeroApi.INTERCEPTOR_ROUTE) {
      new ApiObject(this, 'Resource', {
        apiVersion: 'http.keda.sh/v1beta1',
        kind: 'InterceptorRoute',
        metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
        spec: {
          // the interceptor holds requests while the current version wakes up, and routes to it once ready
          target: { service: Lazy.any({ produce: target }), port: props.port },
          rules: [{ hosts: props.hostnames, paths: props.pathPrefix ? [{ value: props.pathPrefix }] : undefined }],
          scalingMetric: { concurrency: { targetValue: props.concurrencyTarget } },
          // `request` is the whole lifecycle, streaming included: 0s disables it, so a global
          // KEDA_HTTP_REQUEST_TIMEOUT cannot cut a long generation
          timeouts: { readiness: coldStartWait, responseHeader, request: '0s' },
        },
      });
      new ApiObject(this, 'ScaledObject', {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: Lazy.any({ produce: target }) },
          minReplicaCount: 0,
          maxReplicaCount: Lazy.any({ produce: () => props.maxReplicas() }),
          cooldownPeriod: props.scaleDownDelay.toSeconds(),
          triggers: [{ type: 'external-push', metadata: { interceptorRoute: props.name, scalerAddress: props.addOn.externalScaler } }],
        },
      });
    } else {
      new ApiObject(this, 'Resource', {
        apiVersion: 'http.keda.sh/v1alpha1',
        kind: 'HTTPScaledObject',
        metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
        spec: {
          hosts: props.hostnames,
          pathPrefixes: props.pathPrefix ? [props.pathPrefix] : undefined,
          // the interceptor holds requests while the current version wakes up, and routes to it once ready
          scaleTargetRef: Lazy.any({
            produce: () => {
              const name = target();
              return { name, kind: 'Deployment', apiVersion: 'apps/v1', service: name, port: props.port };
            },
          }),
          replicas: { min: 0, max: Lazy.any({ produce: () => props.maxReplicas() }) },
          scalingMetric: { concurrency: { targetValue: props.concurrencyTarget } },
          scaledownPeriod: props.scaleDownDelay.toSeconds(),
          timeouts: { conditionWait: coldStartWait, responseHeader },
        },
      });
    }
    // the route sends requests to the interceptor in the add-on's namespace: that namespace must allow it
    new ApiObject(this, 'InterceptorGrant', {
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name: `${props.name}-to-keda`, namespace: props.addOn.interceptor.namespace, labels: props.labels },
      spec: {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: props.namespace ?? 'default' }],
        to: [{ group: '', kind: 'Service', name: props.addOn.interceptor.name }],
      },
    });
  }
}
