/**
 * Release windows: the cron reading (time zones included), the engine holding a step outside them while cancel still
 * works, and the plan listing them.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import { decide } from '../../src/core/decide';
import { computePlan, specHash } from '../../src/core/plan/plan';
import { renderPlanMarkdown } from '../../src/core/plan/render';
import { ControllerState } from '../../src/core/state';
import { insideWindows, nextWindowStart, ReleaseWindowSpec } from '../../src/core/windows';
import { CanaryRollout, Model } from '../../src/k8s';
import { ReleaseWindow } from '../../src/rollout';
import { rolloutSpec } from '../support/spec-fixture';

const weekdays: ReleaseWindowSpec = { cron: '0 9 * * 1-5', durationSeconds: 8 * 3600, timeZone: 'Europe/Berlin' };
const at = (iso: string) => Date.parse(iso);

describe('reading windows', () => {
  test.each([
    // Monday 2026-12-07: Berlin is UTC+1 in winter, so 09:00-17:00 local is 08:00-16:00 UTC
    ['2026-12-07T07:59:00Z', false], ['2026-12-07T08:00:00Z', true], ['2026-12-07T15:59:59Z', true], ['2026-12-07T16:00:00Z', false],
    // Saturday
    ['2026-12-12T10:00:00Z', false],
    // in summer (UTC+2) the same local hours are 07:00-15:00 UTC
    ['2026-07-06T07:30:00Z', true], ['2026-07-06T15:30:00Z', false],
  ])('%s inside 09:00-17:00 Berlin on weekdays: %s', (iso, inside) => {
    expect(insideWindows([weekdays], at(iso))).toBe(inside);
  });

  test('the next window opens at the next weekday 09:00 local', () => {
    expect(new Date(nextWindowStart([weekdays], at('2026-12-11T18:00:00Z'))!).toISOString()).toBe('2026-12-14T08:00:00.000Z');
  });
});

describe('the engine holds outside the windows', () => {
  const spec = rolloutSpec({ allowedWindows: [weekdays] });
  const state = (overrides: Partial<ControllerState> = {}): ControllerState => ({
    specHash: specHash(spec), phase: 'progressing', stepIndex: 0, stepStartedAt: 0, weights: { v1: 100, v2: 0 }, floors: { v1: 4, v2: 4 }, checkFailures: 0, updatedAt: 0, ...overrides,
  });
  const obs = { readyReplicas: { v1: 4, v2: 4 }, routerWeights: { v1: 100, v2: 0 }, floors: { v1: 4, v2: 4 }, metrics: {} };

  test('a step that raises the share waits until the window, and wakes at its start', () => {
    const saturday = at('2026-12-12T10:00:00Z');
    const held = decide(spec, state({ stepStartedAt: saturday - 60_000, updatedAt: saturday - 60_000 }), obs, saturday);
    expect(held.actions.filter((a) => a.kind === 'setWeights')).toEqual([]);
    expect(held.state.weights.v2).toBe(0);
    expect(held.reason).toMatch(/outside the release windows \(0 9 \* \* 1-5 for 8 h \(Europe\/Berlin\)\): step \d+ \(10 %\) waits; the next opens at 2026-12-14T08:00:00.000Z/);
    expect(held.wakeAt).toBeLessThanOrEqual(at('2026-12-14T08:00:00Z'));
    const monday = at('2026-12-14T08:00:00Z');
    const moved = decide(spec, state({ stepStartedAt: saturday - 60_000, updatedAt: monday - 60_000 }), obs, monday);
    expect(moved.actions).toContainEqual(expect.objectContaining({ kind: 'setWeights' }));
  });

  test('cancel works outside the windows', () => {
    const saturday = at('2026-12-12T10:00:00Z');
    const s = state({ weights: { v1: 70, v2: 30 }, stepIndex: 3 });
    const d = decide(spec, s, { ...obs, routerWeights: { v1: 70, v2: 30 }, commands: [{ id: 'c', kind: 'cancel', at: saturday - 1000, seq: 1 }] }, saturday);
    expect(d.state.phase).toBe('aborted');
    expect(d.state.weights).toEqual({ v1: 100, v2: 0 });
  });
});

describe('windows at synth', () => {
  function rollout(windows: ReleaseWindow[]) {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const model = new Model(chart, 'Llm', { image: 'vllm/vllm-openai:v0.6.3', prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090' });
    model.addVersion('v2');
    const env = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference' } });
    return new CanaryRollout(chart, 'Rollout', { environment: env, canaries: [{ version: 'v2' }], allowedWindows: windows });
  }

  test('the plan lists the windows', () => {
    const spec = rolloutSpec({ allowedWindows: [weekdays] });
    expect(renderPlanMarkdown(computePlan(spec))).toContain('release windows: steps that raise the canaries\' share, and the promotion, start only within 0 9 * * 1-5 for 8 h (Europe/Berlin)');
    expect(() => rollout([ReleaseWindow.cron({ cron: '0 9 * * 1-5', duration: Duration.hours(8), timeZone: 'Europe/Berlin' })])).not.toThrow();
  });

  test.each([
    ['a cron with four fields', { cron: '0 9 * *', duration: Duration.hours(1) }, /allowedWindows\[0\]\.cron: a release window starts where a five-field cron expression .*\(received "0 9 \* \*"\)/],
    ['an hour out of range', { cron: '0 24 * * *', duration: Duration.hours(1) }, /allowedWindows\[0\]\.cron: .*\(received "0 24 \* \* \*"\)/],
    ['a duration over a week', { cron: '0 9 * * 1', duration: Duration.days(8) }, /allowedWindows\[0\]\.duration: a release window lasts whole minutes, from 1 minute to 7 days \(received 691200 s\)/],
    ['an unknown time zone', { cron: '0 9 * * 1', duration: Duration.hours(1), timeZone: 'Mars/Olympus' }, /allowedWindows\[0\]\.timeZone: the time zone is not an IANA time zone name \(received "Mars\/Olympus"\)/],
  ])('refuses %s with the construct path, property, value and fix', (_name, options, message) => {
    expect(() => rollout([ReleaseWindow.cron(options)])).toThrow(new RegExp(`^\\[Chart/Rollout\\] ${message.source}`));
  });
});
