/**
 * The main job (`npm run synth`): synthesize every example under examples/ (each `examples/<name>/main.ts`
 * writes its manifests, Terraform and rollout plans into `examples/<name>/dist/`), then print every rollout
 * plan found there as a table.
 */
import * as fs from 'fs';
import * as path from 'path';
import { renderPlanText } from '../src/core/plan/render';

function findPlans(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return findPlans(p);
    return e.name.endsWith('.rollout.json') ? [p] : [];
  }).sort();
}

const examples = fs.readdirSync(__dirname, { withFileTypes: true })
  .filter((e) => e.isDirectory() && fs.existsSync(path.join(__dirname, e.name, 'main.ts')))
  .map((e) => e.name)
  .sort();

for (const name of examples) {
  const dist = path.join(__dirname, name, 'dist');
  fs.rmSync(dist, { recursive: true, force: true });
  const started = Date.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(path.join(__dirname, name, 'main.ts'));
  const files = fs.existsSync(dist) ? fs.readdirSync(dist, { recursive: true }).length : 0;
  console.log(`\n=== examples/${name}: ${files} files in ${path.relative(process.cwd(), dist)} (${Date.now() - started} ms)\n`);
  for (const planFile of findPlans(dist)) {
    const doc = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    console.log(renderPlanText(doc.plan));
  }
}
