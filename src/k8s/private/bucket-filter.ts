/**
 * The gateway's bucket filter for sticky splits: an Envoy Lua filter before the router that sets
 * `x-model-rollout-bucket` (0..99) from the hash of each rollout's sticky key (`core/routes/sticky-bucket.ts`). One
 * filter per Gateway (per chart) serves every sticky rollout on it; filters of other apps on the same gateway chain
 * safely (a request one of them tagged is left alone). Rendered for the gateway implementation the rollout declares:
 * - Istio: an `EnvoyFilter` inserting `envoy.filters.http.lua` before the router in the gateway pods
 *   (https://istio.io/latest/docs/reference/config/networking/envoy-filter/);
 * - Envoy Gateway: an `EnvoyExtensionPolicy` with an inline Lua extension attached to the Gateway (v1.4+; v1.9+
 *   needs `extensionApis.enableLua: true` in the EnvoyGateway configuration), which Envoy Gateway enables on every
 *   route of the Gateway (https://gateway.envoyproxy.io/docs/tasks/extensibility/lua/). Its controller validates the
 *   script against mocks of the stream handle API (internal/gatewayapi/luavalidator/mocks.lua) that have no
 *   `clearRouteCache()`, so the filter calls it only where the handle has it and otherwise relies on the Lua
 *   filter's default route cache clearing on header changes.
 */
import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { BucketEntry, luaBucketFilterFor } from '../../core/routes/sticky-bucket';
import { GatewayImplementation } from '../routing';

/** Implementations whose gateway runs the bucket filter. */
export const STICKY_IMPLEMENTATIONS: readonly GatewayImplementation[] = [GatewayImplementation.ISTIO, GatewayImplementation.ENVOY_GATEWAY];

/** Where one gateway's bucket filter goes. */
export interface BucketFilterTarget {
  readonly implementation: GatewayImplementation;
  /** The Gateway. */
  readonly gateway: { readonly name: string; readonly namespace: string };
  /** Istio: namespace of the gateway's pods (EnvoyFilters apply in their own namespace). */
  readonly podNamespace: string;
  /** Istio: labels of the gateway's pods. */
  readonly podLabels: { [key: string]: string };
}

export class GatewayBucketFilter extends Construct {
  /** The filter of `target` in the chart of `scope`, created at first use. */
  public static of(scope: Construct, target: BucketFilterTarget): GatewayBucketFilter {
    const chart = Chart.of(scope);
    const key = [target.implementation, target.gateway.namespace, target.gateway.name, target.podNamespace, JSON.stringify(target.podLabels)].join('|');
    const id = `BucketFilter${Buffer.from(key).toString('base64url')}`;
    return (chart.node.tryFindChild(id) as GatewayBucketFilter | undefined) ?? new GatewayBucketFilter(chart, id, target);
  }

  private readonly entries: BucketEntry[] = [];

  private constructor(scope: Construct, id: string, target: BucketFilterTarget) {
    super(scope, id);
    const name = `model-rollout-bucket-${target.gateway.name}`;
    const source = Lazy.any({ produce: () => luaBucketFilterFor(this.entries) });
    if (target.implementation === GatewayImplementation.ENVOY_GATEWAY) {
      new ApiObject(this, 'Resource', {
        apiVersion: 'gateway.envoyproxy.io/v1alpha1',
        kind: 'EnvoyExtensionPolicy',
        // a policy attaches to resources of its own namespace
        metadata: { name, namespace: target.gateway.namespace },
        spec: {
          targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: target.gateway.name }],
          lua: [{ type: 'Inline', inline: source }],
        },
      });
      return;
    }
    new ApiObject(this, 'Resource', {
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      metadata: { name, namespace: target.podNamespace },
      spec: {
        workloadSelector: { labels: target.podLabels },
        configPatches: [{
          applyTo: 'HTTP_FILTER',
          match: {
            context: 'GATEWAY',
            listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.router' } } } },
          },
          patch: {
            operation: 'INSERT_BEFORE',
            value: {
              name: 'envoy.filters.http.lua',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua',
                'default_source_code': { inline_string: source },
              },
            },
          },
        }],
      },
    });
  }

  /** Serve one more rollout's sticky split. */
  public addEntry(entry: BucketEntry): void {
    this.entries.push(entry);
  }
}
