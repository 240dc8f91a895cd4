/**
 * How the in-cluster controller authenticates to Prometheus and trusts its certificate: a CA bundle and one kind of
 * credentials, mounted into the namespace controller's pod from a ConfigMap or Secret of the namespace, read by the
 * controller at every tick (a rotated token or CA is picked up without a restart) and sent with every query
 * (`src/controller/prometheus.ts`, node:https with `ca`). Rendered by `private/prometheus-connection.ts`.
 *
 * The shapes follow prometheus-operator's `SafeAuthorization`/`BasicAuth`/`TLSConfig` (a Secret or ConfigMap key
 * per item): Documentation/api-reference/api.md, and the Prometheus HTTP API behind a proxy that checks
 * `Authorization` (kube-rbac-proxy, an OAuth proxy, Grafana Cloud / Mimir's basic auth).
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/
 */
/** One key of a ConfigMap or Secret in the rollout's namespace. */
export interface KeyReference {
  /** Name of the ConfigMap or Secret. */
  readonly name: string;
  /** Key holding the value. */
  readonly key: string;
}

/** A Secret holding a user name and a password (basic auth). */
export interface BasicAuthSecret {
  /** Name of the Secret. */
  readonly name: string;
  /**
   * Key of the user name.
   * @default 'username'
   */
  readonly usernameKey?: string;
  /**
   * Key of the password.
   * @default 'password'
   */
  readonly passwordKey?: string;
}

/**
 * How the controller reaches Prometheus beyond its address (`prometheusUrl`): the CA that signed its certificate,
 * and at most one of a bearer token (from a Secret key or a file the pod has) or basic auth. The rollouts of a
 * namespace share one controller pod, so they must agree on it.
 */
export interface PrometheusConnectionOptions {
  /**
   * ConfigMap key holding the PEM bundle of the CA(s) that signed Prometheus' certificate (for example the cluster's
   * `kube-root-ca.crt` ConfigMap, key `ca.crt`, or a cert-manager trust bundle). It replaces the system's CAs.
   * @default - the system's CAs (none for a plain http address)
   */
  readonly caConfigMap?: KeyReference;
  /**
   * Secret key holding that PEM bundle, when it is kept in a Secret (a cert-manager Certificate's `ca.crt`).
   * @default - the system's CAs
   */
  readonly caSecret?: KeyReference;
  /**
   * Secret key holding a bearer token, sent as `Authorization: Bearer <token>`.
   * @default - no bearer token
   */
  readonly bearerTokenSecret?: KeyReference;
  /**
   * A file in the controller's pod holding a bearer token, read at every tick: typically the pod's own
   * ServiceAccount token `/var/run/secrets/kubernetes.io/serviceaccount/token` for a Prometheus behind
   * kube-rbac-proxy (grant the ServiceAccount `model-rollout-controller-<chart id>` access there).
   * @default - no bearer token
   */
  readonly bearerTokenFile?: string;
  /**
   * Secret holding a user name and password, sent as `Authorization: Basic ...`.
   * @default - no basic auth
   */
  readonly basicAuthSecret?: BasicAuthSecret;
}
