import * as errors from './errors';
import { validateHeaderName } from './private/inputs';
import { PinSpec, RoutingSpec } from '../core/contract/target';

/**
 * The Gateway API implementation serving the environment's Gateway. Weighted splits and pins are standard Gateway
 * API and work on every conformant implementation; a sticky split (`Routing.headerHash`, `Routing.queryHash`)
 * needs an Envoy Lua filter in the gateway, which this library installs where the implementation has an API for it.
 */
export enum GatewayImplementation {
  /** Istio (ingress or Gateway API gateways it deploys): sticky splits through an `EnvoyFilter`. */
  ISTIO = 'istio',
  /**
   * Envoy Gateway v1.4+: sticky splits through an `EnvoyExtensionPolicy` Lua extension on the Gateway (from v1.9 the
   * EnvoyGateway configuration must set `extensionApis.enableLua: true`).
   */
  ENVOY_GATEWAY = 'envoy-gateway',
  /** Cilium: no Lua or hash-routing extension; sticky splits are refused at synth. */
  CILIUM = 'cilium',
  /** GKE Gateway controller: no Lua or hash-routing extension; sticky splits are refused at synth. */
  GKE = 'gke',
  /** NGINX Gateway Fabric: no Lua or hash-routing extension; sticky splits are refused at synth. */
  NGINX_GATEWAY_FABRIC = 'nginx-gateway-fabric',
  /** Another implementation: sticky splits are refused at synth. */
  OTHER = 'other',
}

/**
 * How requests are split between versions.
 *
 * Sticky splits (`headerHash`, `queryHash`) need the gateway's bucket filter, an Envoy Lua filter: the rollout must
 * declare its `gatewayImplementation` (Istio or Envoy Gateway); on other implementations they are refused at synth.
 */
export class Routing {
  /** Plain weights: each request picks a version at random, in proportion to the weights. */
  public static random(): Routing {
    return new Routing({ kind: 'random' });
  }

  /**
   * Sticky by a request header's value (a user id): the same value always reaches the same version at a given
   * weight, and a value that reached a canary stays on it as the weight grows.
   */
  public static headerHash(header: string): Routing {
    return new Routing({ kind: 'headerHash', header });
  }

  /** Sticky by a query parameter's value. */
  public static queryHash(param: string): Routing {
    return new Routing({ kind: 'queryHash', param });
  }

  private constructor(private readonly spec: RoutingSpec) {}

  /** Whether the split is sticky (needs the bucket filter). */
  public get sticky(): boolean {
    return this.spec.kind !== 'random';
  }

  /**
   * Validated routing data.
   * @internal
   */
  public _bind(path: string): RoutingSpec {
    if (this.spec.kind === 'headerHash' && !this.spec.header.trim()) throw errors.emptyHashKey(path, 'routing.header');
    if (this.spec.kind === 'queryHash' && !this.spec.param.trim()) throw errors.emptyHashKey(path, 'routing.param');
    if (this.spec.kind === 'headerHash') validateHeaderName(path, 'routing.header', this.spec.header);
    if (this.spec.kind === 'queryHash') validateHeaderName(path, 'routing.param', this.spec.param);
    return this.spec;
  }
}

/** Requests carrying a given header or query value always reach one version, whatever the weights (for testers). */
export class Pin {
  /** Requests with header `name: value` reach `version`. */
  public static header(name: string, value: string, version: string): Pin {
    return new Pin({ version, header: { name: name.toLowerCase(), value } });
  }

  /** Requests with query parameter `name=value` reach `version`. */
  public static query(name: string, value: string, version: string): Pin {
    return new Pin({ version, query: { name, value } });
  }

  /**
   * Requests carrying cookie `name=value` reach `version` (browser A/B, Flagger's cookie match): a match on the
   * `Cookie` header, a Gateway API `RegularExpression` header match (implementation-specific support: Istio and
   * Envoy Gateway have it); on ALB an `http-header` condition on `Cookie` with wildcards.
   */
  public static cookie(name: string, value: string, version: string): Pin {
    return new Pin({ version, cookie: { name, value } });
  }

  /**
   * Requests whose header `name` matches the regular expression `regex` as a whole (RE2 syntax) reach `version`.
   * Gateway API `RegularExpression` header match: implementation-specific support (Istio and Envoy Gateway have it,
   * RE2); ALB has no regular expressions and refuses it.
   */
  public static headerRegex(name: string, regex: string, version: string): Pin {
    return new Pin({ version, header: { name: name.toLowerCase(), value: regex, regex: true } });
  }

  /** Requests whose query parameter `name` matches `regex` as a whole (RE2) reach `version`; support as `headerRegex`. */
  public static queryRegex(name: string, regex: string, version: string): Pin {
    return new Pin({ version, query: { name, value: regex, regex: true } });
  }

  private constructor(private readonly spec: PinSpec) {}

  /** The version the pin leads to. */
  public get version(): string {
    return this.spec.version;
  }

  /** @internal */
  public _spec(): PinSpec {
    return this.spec;
  }
}
