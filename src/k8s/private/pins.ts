/** Pins (requests that always reach one version) checked before they become route rules. */
import { PinSpec } from '../../core/contract/target';
import * as errors from '../errors';
import { validateHeaderName } from './inputs';

/** Check pins: one version per match, non-empty names, regular expressions RE2 accepts. */
export function validatePins(path: string, pins: readonly PinSpec[]): void {
  const seen = new Map<string, string>();
  pins.forEach((p, i) => {
    const m = p.cookie ?? p.header ?? p.query!;
    if (!m.name.trim() || !m.value.trim()) throw errors.pinEmpty(path, `pins[${i}]`);
    validateHeaderName(path, `pins[${i}].name`, m.name);
    if ((p.header ?? p.query)?.regex) validateRe2(path, `pins[${i}].value`, m.value);
    if (p.cookie && !COOKIE_VALUE.test(p.cookie.value)) throw errors.cookieValueInvalid(path, `pins[${i}].value`, p.cookie.value);
    const kind = p.cookie ? 'cookie' : p.header ? 'header' : 'query';
    const key = `${kind} ${m.name}${(p.header ?? p.query)?.regex ? '~' : '='}${m.value}`;
    const first = seen.get(key);
    if (first !== undefined && first !== p.version) throw errors.pinShared(path, `pins[${i}]`, key, first, p.version);
    seen.set(key, p.version);
  });
}

/** A cookie value (RFC 6265 `cookie-octet`s: no space, `"`, `,`, `;` or backslash). */
const COOKIE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/;

/**
 * A regular expression the gateways' RE2 accepts: it compiles, and uses none of what RE2 lacks (lookaround,
 * backreferences; https://github.com/google/re2/wiki/Syntax). JavaScript's syntax stands in for RE2's otherwise.
 */
function validateRe2(path: string, property: string, re: string): void {
  let ok = true;
  try {
    new RegExp(re);
  } catch {
    ok = false;
  }
  if (!ok || /\(\?<?[=!]|\\[1-9]/.test(re)) throw errors.pinRegexInvalid(path, property, re);
}
