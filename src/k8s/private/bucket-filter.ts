import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { BucketKeySource, luaBucketFilter } from '../../core/routes/sticky-bucket';

/** Props of a `BucketFilter`. */
export interface BucketFilterProps {
  /** Name of the EnvoyFilter. */
  readonly name: string;
  /** Namespace of the gateway's pods (EnvoyFilters apply in their own namespace). */
  readonly namespace?: string;
  /** Labels of the gateway's pods. */
  readonly gatewayLabels: { [key: string]: string };
  /** Where the sticky key comes from. */
  readonly key: BucketKeySource;
  /** Host names of the environment (empty: every host). */
  readonly hostnames: readonly string[];
  /** Path prefix of the environment. */
  readonly pathPrefix?: string;
}

/**
 * The gateway's bucket filter for sticky splits: an Istio `EnvoyFilter` inserting an Envoy Lua filter before
 * the router, which sets `x-model-rollout-bucket` (0..99) from the hash of the sticky key. The HTTPRoute's rules
 * match bucket ranges that the step controller widens step by step.
 * Supported gateways: Istio gateways (ingress, or Gateway API gateways deployed by Istio).
 * @see https://istio.io/latest/docs/reference/config/networking/envoy-filter/
 */
export class BucketFilter extends Construct {
  constructor(scope: Construct, id: string, props: BucketFilterProps) {
    super(scope, id);
    new ApiObject(this, 'Resource', {
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        workloadSelector: { labels: props.gatewayLabels },
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
                'default_source_code': { inline_string: luaBucketFilter(props.key, props.hostnames, props.pathPrefix) },
              },
            },
          },
        }],
      },
    });
  }
}
