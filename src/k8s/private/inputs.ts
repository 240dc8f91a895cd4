/**
 * Checks of user input that would pass synth but that a real API server (or the component reading the field)
 * rejects or misreads. Each throws the named message of its rule (`../errors.ts`).
 */
import { Duration } from 'cdk8s';
import * as errors from '../errors';

/** Container image: a non-empty reference without whitespace. */
export function validateImage(path: string, property: string, image: string): void {
  if (!image || !image.trim() || /\s/.test(image)) throw errors.imageInvalid(path, property, image);
}

/** A TCP port: 1..65535 (core/v1 ContainerPort.containerPort, ServicePort.port). */
export function validatePort(path: string, property: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw errors.portInvalid(path, property, port);
}

/** A positive, finite duration (probe thresholds, deadlines and timeouts derived from it must be >= 1 s). */
export function validateDuration(path: string, property: string, d: Duration): void {
  const s = d.toSeconds();
  if (!Number.isFinite(s) || s < 1) throw errors.durationTooShort(path, property, s);
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Names of Secrets, ConfigMaps, ServiceAccounts, PVCs: DNS-1123 subdomains of at most 253 characters. */
export function validateDns1123Subdomain(path: string, property: string, name: string): void {
  if (!name || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) throw errors.objectNameInvalid(path, property, name);
}

/**
 * HTTP header (and Gateway API query parameter) names: an RFC 7230 token, the pattern of Gateway API's
 * `HTTPHeaderName` (`^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$`, maxLength 256), used by HTTPHeaderMatch and
 * HTTPQueryParamMatch alike.
 */
export function validateHeaderName(path: string, property: string, name: string): void {
  if (!name || name.length > 256 || !/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) throw errors.headerNameInvalid(path, property, name);
}

/**
 * Host names of an HTTPRoute: Gateway API `Hostname` (a lower-case DNS name, optionally prefixed by `*.`; no
 * scheme, port, path or IP address), maxLength 253.
 * @see https://gateway-api.sigs.k8s.io/reference/spec/#hostname
 */
export function validateHostname(path: string, property: string, host: string): void {
  const re = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  if (!host || host.length > 253 || !re.test(host) || /^[0-9.]+$/.test(host)) throw errors.hostnameInvalid(path, property, host);
}

/** A PathPrefix value: starts with `/`, no query or fragment, no `//` (HTTPPathMatch validations). */
export function validatePathPrefix(path: string, property: string, value: string): void {
  if (!value.startsWith('/') || /[?#\s]/.test(value) || value.includes('//') || value.length > 1024) throw errors.pathInvalid(path, property, value);
}

/** An absolute http(s) URL with a host (a Prometheus address). */
export function validateHttpUrl(path: string, property: string, value: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !(url.protocol === 'http:' || url.protocol === 'https:') || !url.hostname) throw errors.urlInvalid(path, property, value);
}
