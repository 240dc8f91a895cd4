/**
 * An environment's HTTP endpoint: a Gateway API HTTPRoute whose rules send every request to the current version,
 * or, while a rollout owns them, the rollout's weighted rules. Only environments with a `gateway` have one (the
 * ALB path of the AWS target routes without it).
 * @see https://gateway-api.sigs.k8s.io/reference/spec/#httproute
 */
import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { HttpRouteRule } from '../../core/routes/gateway-api';
import { GatewayRef } from '../contracts';

/** Props of an `Endpoint`. */
export interface EndpointProps {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: { [key: string]: string };
  readonly gateway: GatewayRef;
  readonly hostnames?: string[];
  /** The rules, rendered late: promotion and rollouts may change them after construction. */
  readonly rules: () => HttpRouteRule[] | unknown[];
}

export class Endpoint extends Construct {
  public readonly route: ApiObject;

  constructor(scope: Construct, id: string, props: EndpointProps) {
    super(scope, id);
    this.route = new ApiObject(this, 'Resource', {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: {
        parentRefs: [{ name: props.gateway.name, namespace: props.gateway.namespace, sectionName: props.gateway.sectionName }],
        hostnames: props.hostnames,
        rules: Lazy.any({ produce: () => props.rules() }),
      },
    });
  }
}
