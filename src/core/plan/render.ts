/**
 * Rendering of a plan: Markdown (table + mermaid `xychart-beta`, renders in pull requests), plain text for
 * terminals, and JSON. Pure string building; writing files is the caller's business.
 */
import { renderChart } from './chart';
import { computePlan, formatSeconds, PlanData } from './plan';
import { planSegments } from './segments';
import { MetricSpec, RolloutSpec } from '../spec';

/** Versions in display order: stable, canaries, then the shadow. */
function versionsOf(plan: PlanData): string[] {
  return [plan.stable, ...plan.canaries, ...(plan.mirror ? [plan.mirror.version] : [])];
}

function summary(plan: PlanData): string[] {
  const bake = plan.safety.bakeSeconds;
  const duration = `${formatSeconds(plan.totalSeconds)}${bake > 0 ? ` (ramp ${formatSeconds(plan.totalSeconds - bake)}, bake ${formatSeconds(bake)})` : ''}`
    + `${plan.waitsForPromotion ? ' + manual promotion' : ''}`;
  const lines = [
    `stable ${plan.stable} -> canar${plan.canaries.length > 1 ? 'ies' : 'y'} ${plan.canaries.join(', ')}; ` +
      `${plan.ending === 'promote' ? `${plan.canaries[0]} becomes stable at the end` : 'the split holds at the end'}`,
    `duration ${duration}; ${plan.gpuHours} GPU-hours; peak ${plan.peakGpus} GPUs; stable replicas ${plan.stableReplicas}`,
  ];
  const c = plan.capacity;
  if (c?.mode === 'surge') {
    lines.push(`capacity: surge, at most ${c.maxExtraGpus} GPUs above the stable version's, which keeps its share plus ${c.reserveReplicas} replica(s) ` +
      `(full mode: peak ${c.fullPeakGpus} GPUs, ${c.fullGpuHours} GPU-hours)`);
  }
  if (plan.windows) {
    lines.push(`release windows: steps that raise the canaries' share, and the promotion, start only within ${plan.windows.join(' or ')}; `
      + 'outside them the rollout holds where it is (cancel and abort always work), so the times below assume every such step falls inside one');
  }
  if (plan.pinned && plan.pinned.length > 0) {
    lines.push(`pins: requests pinned to ${plan.pinned.join(', ')} reach it at any weight (a version at 0 % serves pinned requests only)`);
  }
  if (plan.mirror) {
    lines.push(`shadow: ${plan.mirror.percent}% of the route's requests, pinned ones included, mirrored to ${plan.mirror.version} (answers discarded)`);
  }
  lines.push(`spec hash ${plan.hash}`);
  return lines;
}

/** Table rows: one per span of constant traffic. */
function tableRows(plan: PlanData): string[][] {
  const versions = versionsOf(plan);
  return planSegments(plan).map((s, i, all) => {
    const last = i === all.length - 1;
    const note = [...s.notes, ...(last ? [plan.ending === 'promote' ? 'promoted' : 'holds'] : [])].join('; ');
    return [
      formatSeconds(s.atSeconds),
      last ? '-' : formatSeconds(s.seconds),
      ...versions.map((v) => (v === plan.mirror?.version ? `${plan.mirror.percent}% (mirror)` : `${s.weights[v]}%`)),
      versions.map((v) => s.replicas[v] ?? 0).join(' / '),
      String(s.gpus),
      note,
    ];
  });
}

function tableHeader(plan: PlanData): string[] {
  const versions = versionsOf(plan);
  return ['at', 'for', ...versions, `replicas (${versions.join(' / ')})`, 'GPUs', 'note'];
}

/** The plan as Markdown: summary, table, a mermaid chart of weight over time, and what stops or holds it. */
export function renderPlanMarkdown(plan: PlanData): string {
  const header = tableHeader(plan);
  const rows = tableRows(plan);
  const out = [
    `# Rollout plan: ${plan.name}`,
    '',
    `Declared at \`${plan.path}\`.`,
    '',
    ...summary(plan).map((l) => `- ${l}`),
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    ...renderChart(plan),
    '',
    '## What stops or holds this rollout',
    '',
    ...safetyLines(plan).map((l) => `- ${l}`),
    '',
  ];
  return out.join('\n');
}

/** Checks, gates, deadlines, capacity and the end, in words a reviewer can check against the spec. */
function safetyLines(plan: PlanData): string[] {
  const s = plan.safety;
  const lines: string[] = [];
  if (s.checks.length === 0) {
    lines.push('checks at every tick: none (only analysis steps and `model-rollout cancel` stop a faulty canary)');
  } else {
    lines.push(`checks at every tick while a canary has traffic (a failure holds the weights; more than ${s.checkFailureLimit} failed measurement(s) abort):`);
    for (const m of s.checks) lines.push(`  ${describeMetric(m)}`);
  }
  for (const { step, gate } of s.gates) {
    lines.push(`analysis "${gate.name}" at step ${step}: ${gate.count} measurement(s) ${formatSeconds(gate.intervalSeconds)} apart; more than ${gate.failureLimit} failure(s) abort; ` +
      `more than ${gate.inconclusiveLimit} inconclusive measurement(s) pause until resumed:`);
    for (const m of gate.metrics) lines.push(`  ${describeMetric(m)}`);
  }
  lines.push(`capacity: canaries are pre-warmed for the weights the schedule reaches within ${formatSeconds(s.prewarmSeconds)}; a weight rises only onto ready replicas; ` +
    `a canary not ready within ${formatSeconds(s.progressDeadlineSeconds)} aborts the rollout (every canary to 0 %, the stable floor restored first)`);
  lines.push(`GPUs per replica: ${s.gpus.map((g) => `${g.version} ${g.gpusPerReplica}${g.product ? ` x ${g.product}` : ''}`).join(', ')}`);
  if (s.bakeSeconds > 0) {
    lines.push(`bake: after reaching 100 %, ${formatSeconds(s.bakeSeconds)} with every check running and ${plan.stable} warm; a failing check or `
      + `\`model-rollout cancel\` sends all traffic back to ${plan.stable} at once`);
  }
  lines.push(afterLastStep(plan));
  return lines;
}

/** What happens to the previous version after promotion, as the engine does it (`decide/floors.ts`, `mayScaleDown`). */
function afterLastStep(plan: PlanData): string {
  const s = plan.safety;
  if (plan.ending !== 'promote') return 'after the last step: the split holds until the spec changes; nothing is scaled down';
  const head = `after the last step: ${plan.canaries[0]} is the stable version; `;
  if (s.keepPreviousUntilSpecChanges) {
    return `${head}${plan.stable} keeps its replicas until the code names ${plan.canaries[0]} as the environment's version (re-applied `
      + `manifests still route to ${plan.stable}); until then \`model-rollout cancel\` rolls back to it`;
  }
  const warm = s.keepPreviousWarmSeconds > 0 ? `stays warm for ${formatSeconds(s.keepPreviousWarmSeconds)} (the rollback window: `
    + '`model-rollout cancel` sends the traffic back to it), then is' : 'is';
  return `${head}${plan.stable} ${warm} scaled to zero and kept deployed`;
}

function describeMetric(m: MetricSpec): string {
  if (m.provider === 'cloudwatchAlarm') return `\`${m.name}\`: fails while the CloudWatch alarm \`${m.alarmName}\` is in ALARM; INSUFFICIENT_DATA is inconclusive`;
  const op = { lt: '<', lte: '<=', gt: '>', gte: '>=' }[m.comparison];
  const guard = m.minSamples ? `; inconclusive below ${m.minSamples} samples of \`${m.sampleQuery}\`` : '';
  return `\`${m.name}\`: passes when \`${m.query}\` ${op} ${m.threshold}${guard}; no data is inconclusive`;
}

/** The plan as an aligned plain-text table for terminals. */
export function renderPlanText(plan: PlanData): string {
  const header = tableHeader(plan);
  const rows = tableRows(plan);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [
    `Rollout plan: ${plan.name} (${plan.path})`,
    ...summary(plan).map((l) => `  ${l}`),
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
  ].join('\n');
}

/** Document kind of `<name>.rollout.json`: the spec (what the controller runs) and its plan. */
export const PLAN_DOCUMENT_KIND = 'RolloutPlan';
export const PLAN_DOCUMENT_API_VERSION = 'model-rollout.dev/v1';

/** The document written to `<name>.rollout.json`. */
export interface PlanDocument {
  readonly apiVersion: string;
  readonly kind: string;
  readonly spec: RolloutSpec;
  readonly plan: PlanData;
}

/** The spec and its plan as JSON (two-space indent, trailing newline): `<name>.rollout.json`. */
export function renderPlanJson(spec: RolloutSpec, plan: PlanData = computePlan(spec)): string {
  const doc: PlanDocument = { apiVersion: PLAN_DOCUMENT_API_VERSION, kind: PLAN_DOCUMENT_KIND, spec, plan };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
