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
  const lines = [
    plan.fixedSplit
      ? `stable ${plan.stable} with a fixed split to ${plan.canaries.join(', ')} written into the route; the split holds at the end (no controller)`
      : `stable ${plan.stable} -> canar${plan.canaries.length > 1 ? 'ies' : 'y'} ${plan.canaries.join(', ')}; `
        + `${plan.ending === 'promote' ? `${plan.canaries[0]} becomes stable at the end` : 'the split holds at the end'}`,
    `duration ${durationInWords(plan)}; ${plan.gpuHours} GPU-hours; peak ${plan.peakGpus} GPUs; stable replicas ${plan.stableReplicas}`,
  ];
  if (!plan.fixedSplit) {
    lines.push(`rollout name \`${plan.name}\`: \`model-rollout status ${plan.name} --kube\` (or \`--aws\`), \`model-rollout cancel ${plan.name} ...\``);
  }
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

/**
 * The total and its parts: the shadow steps (at most: each ends once its error test passes), the ramp (the steps up to
 * the final 100 %), the bake (after it), and a manual promotion when a step waits for one.
 */
export function durationInWords(plan: PlanData): string {
  const bake = plan.safety.bakeSeconds;
  const shadow = plan.safety.shadowSeconds ?? 0;
  const parts = [
    ...(shadow > 0 ? [`shadow at most ${formatSeconds(shadow)}`] : []),
    ...(shadow > 0 || bake > 0 ? [`ramp ${formatSeconds(plan.totalSeconds - bake - shadow)}`] : []),
    ...(bake > 0 ? [`bake ${formatSeconds(bake)}`] : []),
  ];
  return `${formatSeconds(plan.totalSeconds)}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}${plan.waitsForPromotion ? ' + manual promotion' : ''}`;
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
    // a check's line (indented) is an item of the list above it
    ...safetyLines(plan).map((l) => (l.startsWith('  ') ? `  - ${l.trimStart()}` : `- ${l}`)),
    '',
    ...queryBlock(plan),
  ];
  return out.join('\n');
}

/** Checks, gates, deadlines, capacity and the end, in words a reviewer can check against the spec. */
export function safetyLines(plan: PlanData): string[] {
  const s = plan.safety;
  if (plan.fixedSplit) return fixedSplitLines(plan);
  const lines: string[] = [];
  if (s.checks.length === 0) {
    lines.push('checks at every tick: none (only analysis steps and `model-rollout cancel` stop a faulty canary)');
  } else {
    lines.push(`checks at every tick while a canary has traffic: ${failureLimitInWords(s.checkFailureLimit)}`);
    for (const m of s.checks) lines.push(`  ${describeMetric(m)}`);
  }
  for (const { step, gate } of s.gates) {
    lines.push(`analysis "${gate.name}" at step ${step + 1}: ${gate.count} measurement(s) ${formatSeconds(gate.intervalSeconds)} apart; `
      + `${gate.failureLimit === 0 ? 'the first failed measurement aborts' : `${gate.failureLimit} failed measurement(s) tolerated, the ${ordinal(gate.failureLimit + 1)} aborts`}; `
      + `more than ${gate.inconclusiveLimit} inconclusive measurement(s) pause until resumed:`);
    for (const m of gate.metrics) lines.push(`  ${describeMetric(m)}`);
  }
  lines.push(`capacity: canaries are pre-warmed for the weights the schedule reaches within ${formatSeconds(s.prewarmSeconds)}; a weight rises only onto ready replicas; `
    + `a canary not ready within ${formatSeconds(s.progressDeadlineSeconds)} aborts the rollout (every canary to 0 %, the stable floor restored first)`);
  lines.push(gpuLine(plan));
  if (s.bakeSeconds > 0) {
    lines.push(`bake: after reaching 100 %, ${formatSeconds(s.bakeSeconds)} with every check running and ${plan.stable} warm; a failing check or `
      + `\`model-rollout cancel\` sends all traffic back to ${plan.stable} at once`);
  }
  lines.push(afterLastStep(plan));
  return lines;
}

/**
 * A fixed split (every canary `ramp: false`) is rendered into the route and the manifests: no controller is
 * synthesized (`CanaryRollout`, "a fixed split"), so no check runs and no command is handled.
 */
function fixedSplitLines(plan: PlanData): string[] {
  const s = plan.safety;
  return [
    'no controller: nothing checks this split; the weights are written into the route and hold until the code changes them '
      + `(no check, analysis or \`model-rollout\` command applies${s.checks.length > 0 ? `; the ${s.checks.length} check(s) declared are not run` : ''})`,
    gpuLine(plan),
  ];
}

function gpuLine(plan: PlanData): string {
  return `GPUs per replica: ${plan.safety.gpus.map((g) => `${g.version} ${g.gpusPerReplica}${g.product ? ` x ${g.product}` : ''}`).join(', ')}`;
}

/** `runContinuousChecks` (decide/analysis.ts): a failure holds the weights and counts; more than the limit aborts. */
export function failureLimitInWords(limit: number): string {
  const abort = limit === 0
    ? 'the first failed measurement aborts the rollout'
    : `a failed measurement holds the weights; ${limit} are tolerated, the ${ordinal(limit + 1)} aborts the rollout`;
  return `${abort}; a sequential test aborts as soon as it fails; no data or a measurement error holds the weights`;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
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
  // the target that does not keep the previous version (an ALB: the rule ignores the action) routes through the
  // environment's route once the rollout is removed (aws/alb-route.ts)
  return `${head}${plan.stable} ${warm} scaled to zero and kept deployed; after that a cancel is refused (going back is a new rollout `
    + `of ${plan.stable}). Then set the environment's version to ${plan.canaries[0]} and remove the rollout (on AWS the \`AlbRoute\` `
    + `keeps the host on ${plan.canaries[0]}, and ${plan.stable}'s target group goes once no rule forwards to it)`;
}

/** Queries longer than this are named in the line and shown in full in the collapsed block below the section. */
const INLINE_QUERY_CHARS = 80;

const OPERATOR = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;
const WORSE = { lt: 'higher', lte: 'higher', gt: 'lower', gte: 'lower' } as const;

/** A query inline when short, else a reference to the collapsed block. */
function queryRef(name: string, query: string): string {
  return query.length <= INLINE_QUERY_CHARS ? `\`${query}\`` : `the ${name} query (below)`;
}

/** One check in one line: what, against what, thresholds, the sequential test's parameters, the comparison with stable. */
export function describeMetric(m: MetricSpec): string {
  if (m.provider === 'cloudwatchAlarm') return `\`${m.name}\`: fails while the CloudWatch alarm \`${m.alarmName}\` is in ALARM; INSUFFICIENT_DATA is inconclusive`;
  const op = OPERATOR[m.comparison];
  const parts: string[] = [];
  if (m.sequential) {
    const q = m.sequential;
    // sequential.ts: H0 = stable's rate x (1 + tolerance), H1 = H0 x detectRatio; alpha bounds aborts of a canary at H0
    parts.push('sequential test of the canary\'s errors against stable\'s over the same windows: aborts at once when the canary\'s error rate is shown above '
      + `stable's x ${round(1 + q.tolerance)} (false-abort rate alpha ${q.falseAbortRate}), built to detect ${round(q.detectRatio)} x that rate `
      + `(miss rate beta ${q.missRate}); stable's rate is taken as at least ${q.baselineFloor}`);
    parts.push(`ceiling: ${queryRef('value', m.query)} ${op} ${m.threshold}`);
  } else {
    parts.push(`passes when ${queryRef('value', m.query)} ${op} ${m.threshold}`);
  }
  if (m.baseline) {
    // gates.ts judgeComparison: fails only when worse by more than both the ratio and the difference
    parts.push(`fails when ${WORSE[m.comparison]} than stable's${m.baseline.query ? ` (${queryRef('stable', m.baseline.query)})` : ''} over the same window `
      + `by more than x ${m.baseline.maxRatio}${m.baseline.maxDifference > 0 ? ` and by more than ${m.baseline.maxDifference}` : ''}`);
  }
  if (m.minSamples) parts.push(`inconclusive below ${m.minSamples} samples${m.sampleQuery ? ` of ${queryRef('samples', m.sampleQuery)}` : ''}`);
  parts.push('no data is inconclusive');
  return `\`${m.name}\`: ${parts.join('; ')}`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Every query too long for its line, by check: the collapsed block under the safety section. */
export function longQueries(plan: PlanData): Array<{ metric: string; label: string; query: string }> {
  const metrics = [...plan.safety.checks, ...plan.safety.gates.flatMap((g) => g.gate.metrics)];
  const out: Array<{ metric: string; label: string; query: string }> = [];
  for (const m of metrics) {
    if (m.provider !== 'prometheus') continue;
    const all: Array<[string, string | undefined]> = [
      ['value', m.query], ['stable', m.baseline?.query], ['samples', m.sampleQuery],
      ['errors', m.sequential?.errorsQuery], ['requests', m.sequential?.requestsQuery],
    ];
    for (const [label, query] of all) {
      if (!query) continue;
      if (label === 'errors' || label === 'requests' || query.length > INLINE_QUERY_CHARS) out.push({ metric: m.name, label, query });
    }
  }
  return out;
}

/** The collapsed block of full queries (GitHub renders `<details>`; the queries stay diffable, one per line). */
function queryBlock(plan: PlanData): string[] {
  const queries = longQueries(plan);
  if (queries.length === 0) return [];
  return [
    '<details><summary>Full queries</summary>',
    '',
    ...queries.flatMap((q) => [`\`${q.metric}\` ${q.label}:`, '', '```promql', q.query, '```', '']),
    '</details>',
    '',
  ];
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
    'What stops or holds this rollout:',
    ...safetyLines(plan).map((l) => `  ${l}`),
    ...(longQueries(plan).length > 0 ? ['Full queries:'] : []),
    ...longQueries(plan).map((q) => `  ${q.metric} ${q.label}: ${q.query}`),
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
