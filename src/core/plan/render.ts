/**
 * Rendering of a plan: Markdown (table + mermaid `xychart-beta`, renders in pull requests), plain text for
 * terminals, and JSON. Pure string building; writing files is the caller's business.
 */
import { computePlan, formatSeconds, PlanData } from './plan';
import { planSegments } from './segments';
import { RolloutSpec } from '../spec';

/** Versions in display order: stable, canaries, then the shadow. */
function versionsOf(plan: PlanData): string[] {
  return [plan.stable, ...plan.canaries, ...(plan.mirror ? [plan.mirror.version] : [])];
}

function summary(plan: PlanData): string[] {
  const duration = `${formatSeconds(plan.totalSeconds)}${plan.waitsForPromotion ? ' + manual promotion' : ''}`;
  const lines = [
    `stable ${plan.stable} -> canar${plan.canaries.length > 1 ? 'ies' : 'y'} ${plan.canaries.join(', ')}; ` +
      `${plan.ending === 'promote' ? `${plan.canaries[0]} becomes stable at the end` : 'the split holds at the end'}`,
    `duration ${duration}; ${plan.gpuHours} GPU-hours; peak ${plan.peakGpus} GPUs; stable replicas ${plan.stableReplicas}`,
  ];
  if (plan.mirror) lines.push(`shadow: ${plan.mirror.percent}% of requests mirrored to ${plan.mirror.version} (answers discarded)`);
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

/** The plan as Markdown: summary, table, and a mermaid chart of weight over time. */
export function renderPlanMarkdown(plan: PlanData): string {
  const header = tableHeader(plan);
  const rows = tableRows(plan);
  const segments = planSegments(plan);
  const weighted = [plan.stable, ...plan.canaries];
  const labels = segments.map((s) => JSON.stringify(formatSeconds(s.atSeconds)));
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
    `Lines in the chart, in order: ${weighted.join(', ')}. Times assume every gate passes at once and manual pauses are released at once.`,
    '',
    '```mermaid',
    'xychart-beta',
    `  title "${plan.name}: traffic weight (%) over time"`,
    `  x-axis [${labels.join(', ')}]`,
    '  y-axis "weight %" 0 --> 100',
    ...weighted.map((v) => `  line [${segments.map((s) => s.weights[v]).join(', ')}]`),
    '```',
    '',
  ];
  return out.join('\n');
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
