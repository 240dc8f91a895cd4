/**
 * Finding Kubernetes objects in a synth (`Testing.synth(chart)`, a chart's YAML documents, what kubectl applied):
 * by `kind`, and by `metadata.name` when given. One helper, so a test says which object it reads and a missing one
 * fails with what the synth does hold instead of "cannot read properties of undefined".
 */
/* eslint-disable @typescript-eslint/no-explicit-any */

/** Every object of `kind` (named `name`, when given), in synth order. */
export function objectsOf(objects: readonly any[], kind: string, name?: string): any[] {
  return objects.filter((o) => o?.kind === kind && (name === undefined || o.metadata?.name === name));
}

/** The first object of `kind` (named `name`, when given); throws, listing the synth's objects, when there is none. */
export function findObject(objects: readonly any[], kind: string, name?: string): any {
  const [found] = objectsOf(objects, kind, name);
  if (found === undefined) {
    const held = objects.map((o) => `${o?.kind} ${o?.metadata?.name ?? '(no name)'}`).join(', ') || 'nothing';
    throw new Error(`no ${kind}${name === undefined ? '' : ` "${name}"`} in the synth; it holds: ${held}`);
  }
  return found;
}
