/**
 * The controller pod's part of a `PrometheusConnectionOptions`: validation, volumes, mounts and environment
 * (internal; the public shape is `../prometheus-connection.ts`).
 */
import { k8s } from 'cdk8s-plus-33';
import {
  ENV_CONTROLLER_PROMETHEUS_BASIC_AUTH_DIR, ENV_CONTROLLER_PROMETHEUS_CA_FILE, ENV_CONTROLLER_PROMETHEUS_TOKEN_FILE,
} from '../../core/constants';
import * as errors from '../errors';
import { KeyReference, PrometheusConnectionOptions } from '../prometheus-connection';

/** Where the controller pod mounts what `PrometheusConnectionOptions` names (internal). */
const PROMETHEUS_MOUNTS = {
  ca: '/etc/model-rollout/prometheus-ca',
  token: '/etc/model-rollout/prometheus-token',
  basicAuth: '/etc/model-rollout/prometheus-basic-auth',
};

/** The controller pod's part of a connection: volumes, mounts and environment (internal). */
export interface PrometheusConnectionMounts {
  readonly volumes: k8s.Volume[];
  readonly volumeMounts: k8s.VolumeMount[];
  readonly env: k8s.EnvVar[];
  /** Canonical form, to compare the connections of two rollouts of one namespace. */
  readonly key: string;
}

/** Validate `options` (errors name `path` and `property`) and render the pod's volumes, mounts and env. */
export function prometheusConnectionMounts(
  path: string, property: string, options: PrometheusConnectionOptions | undefined,
): PrometheusConnectionMounts {
  const o = options ?? {};
  const keyRef = (name: string, ref: KeyReference | undefined) => {
    if (ref && !(ref.name && ref.key)) {
      throw errors.prometheusConnectionInvalid(path, `${property}.${name}`, JSON.stringify(ref), 'a ConfigMap or Secret key needs both `name` and `key`', `set \`${name}: { name: 'my-object', key: 'ca.crt' }\``);
    }
  };
  keyRef('caConfigMap', o.caConfigMap);
  keyRef('caSecret', o.caSecret);
  keyRef('bearerTokenSecret', o.bearerTokenSecret);
  if (o.caConfigMap && o.caSecret) {
    throw errors.prometheusConnectionInvalid(path, `${property}.caSecret`, o.caSecret.name, 'both `caConfigMap` and `caSecret` are set: the controller trusts one bundle', 'keep one of them (put every CA in one PEM bundle)');
  }
  const credentials = [o.bearerTokenSecret && 'bearerTokenSecret', o.bearerTokenFile !== undefined && 'bearerTokenFile', o.basicAuthSecret && 'basicAuthSecret'].filter((x): x is string => !!x);
  if (credentials.length > 1) {
    throw errors.prometheusConnectionInvalid(path, `${property}.${credentials[1]}`, credentials.join(' + '), 'one request carries one `Authorization` header', `keep one of ${credentials.join(', ')}`);
  }
  if (o.bearerTokenFile !== undefined && !o.bearerTokenFile.startsWith('/')) {
    throw errors.prometheusConnectionInvalid(path, `${property}.bearerTokenFile`, o.bearerTokenFile, 'the path must be absolute (it is read inside the controller pod)', 'use for example `/var/run/secrets/kubernetes.io/serviceaccount/token`');
  }
  if (o.basicAuthSecret && !o.basicAuthSecret.name) {
    throw errors.prometheusConnectionInvalid(path, `${property}.basicAuthSecret.name`, '', 'the Secret needs a name', 'set `basicAuthSecret: { name: \'prometheus-basic-auth\' }`');
  }
  const volumes: k8s.Volume[] = [];
  const volumeMounts: k8s.VolumeMount[] = [];
  const env: k8s.EnvVar[] = [];
  const mount = (name: string, mountPath: string, source: Omit<k8s.Volume, 'name'>) => {
    volumes.push({ name, ...source });
    volumeMounts.push({ name, mountPath, readOnly: true });
  };
  if (o.caConfigMap) mount('prometheus-ca', PROMETHEUS_MOUNTS.ca, { configMap: { name: o.caConfigMap.name, items: [{ key: o.caConfigMap.key, path: 'ca.crt' }] } });
  if (o.caSecret) mount('prometheus-ca', PROMETHEUS_MOUNTS.ca, { secret: { secretName: o.caSecret.name, items: [{ key: o.caSecret.key, path: 'ca.crt' }] } });
  if (o.caConfigMap || o.caSecret) env.push({ name: ENV_CONTROLLER_PROMETHEUS_CA_FILE, value: `${PROMETHEUS_MOUNTS.ca}/ca.crt` });
  if (o.bearerTokenSecret) {
    mount('prometheus-token', PROMETHEUS_MOUNTS.token, { secret: { secretName: o.bearerTokenSecret.name, items: [{ key: o.bearerTokenSecret.key, path: 'token' }] } });
    env.push({ name: ENV_CONTROLLER_PROMETHEUS_TOKEN_FILE, value: `${PROMETHEUS_MOUNTS.token}/token` });
  }
  if (o.bearerTokenFile !== undefined) env.push({ name: ENV_CONTROLLER_PROMETHEUS_TOKEN_FILE, value: o.bearerTokenFile });
  if (o.basicAuthSecret) {
    const b = o.basicAuthSecret;
    mount('prometheus-basic-auth', PROMETHEUS_MOUNTS.basicAuth, {
      secret: { secretName: b.name, items: [{ key: b.usernameKey ?? 'username', path: 'username' }, { key: b.passwordKey ?? 'password', path: 'password' }] },
    });
    env.push({ name: ENV_CONTROLLER_PROMETHEUS_BASIC_AUTH_DIR, value: PROMETHEUS_MOUNTS.basicAuth });
  }
  return { volumes, volumeMounts, env, key: JSON.stringify({ volumes, env }) };
}
