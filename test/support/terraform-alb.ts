/**
 * `terraform apply` of a code change over the ALB resources a stack synthesizes (`aws_lb_target_group`,
 * `aws_lb_listener_rule`), against a live listener whose rules the step controller may have modified since the
 * last apply. Other resource types are left out (they do not route requests).
 *
 * Follows:
 * - Terraform core (hashicorp/terraform docs/destroying.md): creates before the updates that reference them;
 *   a resource removed from the configuration is destroyed after the resources that depended on it and are
 *   destroyed too ("the order for destroying resources is exactly the inverse used to create them"); a removed
 *   resource a remaining resource depended on (state dependencies) is destroyed BEFORE that resource's in-place
 *   update (the `B update -> A destroy` edge of "Replace Dependency"), unless it is `create_before_destroy`, when
 *   the update comes first ("Update a destroyed create_before_destroy dependency: B is updated, A is destroyed").
 *   (Terraform versions with `OrphanDestroyEdgeTransformer` also update first without the lifecycle setting; the
 *   model takes the older, stricter order.) `ignore_changes` attributes are never planned for update
 *   (https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#ignore_changes).
 * - terraform-provider-aws `aws_lb_listener_rule`: an update sends the configured actions (ModifyRule replaces
 *   them); `aws_lb_target_group` delete: DeleteTargetGroup, which answers `ResourceInUse` ("Target group ... is
 *   currently in use by a listener or a rule") while any rule forwards to it; the provider retries that for
 *   2 minutes and then fails the apply (internal/service/elbv2/target_group.go `resourceTargetGroupDelete`).
 *   The model fails at once: nothing in an apply frees the group meanwhile.
 * - ELBv2: a request matches a rule whose forward action names existing target groups; a deleted rule leaves the
 *   host to the listener's default action
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html).
 */

type Config = Record<string, any>;

/** The live load balancer: target groups by ARN, rules by Terraform address. */
export interface LiveAlb {
  readonly targetGroups: Set<string>;
  /** Rules by Terraform address: their forward target groups (ARN, weight). */
  readonly rules: Map<string, Array<{ arn: string; weight: number }>>;
  /** Terraform state: resource address -> ARN, and the addresses each resource depended on. */
  readonly state: Map<string, { arn: string; dependsOn: string[]; cbd?: boolean }>;
}

export interface ApplyResult {
  readonly ok: boolean;
  readonly error?: string;
  /** Every operation in order (`create <addr>`, `update <addr>`, `delete <addr>`). */
  readonly steps: string[];
  /** After each step: whether the host's rule exists and forwards only to existing target groups. */
  readonly routedAfterEachStep: boolean[];
}

export function emptyAlb(): LiveAlb {
  return { targetGroups: new Set(), rules: new Map(), state: new Map() };
}

const TYPES = ['aws_lb_target_group', 'aws_lb_listener_rule'];

function resourcesOf(synth: string): Map<string, Config> {
  const out = new Map<string, Config>();
  const doc = JSON.parse(synth);
  for (const type of TYPES) for (const [name, body] of Object.entries(doc.resource?.[type] ?? {})) out.set(`${type}.${name}`, body as Config);
  return out;
}

/** Addresses a resource's configuration references (`${type.name.attr}`), and its `depends_on`. */
function references(body: Config): string[] {
  const text = JSON.stringify(body);
  const refs = new Set<string>();
  for (const m of text.matchAll(/\$\{(aws_lb_target_group|aws_lb_listener_rule)\.([A-Za-z0-9_-]+)\./g)) refs.add(`${m[1]}.${m[2]}`);
  return [...refs];
}

function forwardOf(body: Config, arnOf: (addr: string) => string): Array<{ arn: string; weight: number }> {
  const groups = body.action?.[0]?.forward?.target_group ?? [];
  return groups.map((g: any) => {
    const m = /\$\{(aws_lb_target_group\.[A-Za-z0-9_-]+)\.arn\}/.exec(String(g.arn));
    return { arn: m ? arnOf(m[1]) : String(g.arn), weight: Number(g.weight) };
  });
}

const sameForward = (a: ReadonlyArray<{ arn: string; weight: number }>, b: ReadonlyArray<{ arn: string; weight: number }>) =>
  JSON.stringify([...a].sort((x, y) => x.arn.localeCompare(y.arn))) === JSON.stringify([...b].sort((x, y) => x.arn.localeCompare(y.arn)));

/** Whether the host is routed: some rule exists, and every target group it forwards to with weight exists. */
export function routed(alb: LiveAlb): boolean {
  const rules = [...alb.rules.values()];
  return rules.length > 0 && rules.every((f) => f.length > 0 && f.every((t) => t.weight === 0 || alb.targetGroups.has(t.arn)));
}

/** Plan and apply `synth` (a stack's cdk.tf.json) over `alb`, in Terraform's order. Mutates `alb`. */
export function apply(alb: LiveAlb, synth: string): ApplyResult {
  const config = resourcesOf(synth);
  const steps: string[] = [];
  const routedAfterEachStep: boolean[] = [];
  const arnOf = (addr: string) => alb.state.get(addr)?.arn ?? `arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/${config.get(addr)?.name}/1`;
  const step = (s: string) => { steps.push(s); routedAfterEachStep.push(routed(alb)); };
  const removed = [...alb.state.keys()].filter((a) => !config.has(a));
  const cbd = (addr: string) => config.get(addr)?.lifecycle?.create_before_destroy === true || alb.state.get(addr)?.cbd === true;
  // creates (target groups first: rules reference them)
  for (const [addr, body] of [...config].sort(([a], [b]) => TYPES.indexOf(a.split('.')[0]) - TYPES.indexOf(b.split('.')[0]))) {
    if (alb.state.has(addr)) continue;
    if (addr.startsWith('aws_lb_target_group.')) {
      const arn = arnOf(addr);
      alb.targetGroups.add(arn);
      alb.state.set(addr, { arn, dependsOn: [], ...(body.lifecycle?.create_before_destroy ? { cbd: true } : {}) });
    } else {
      alb.rules.set(addr, forwardOf(body, arnOf));
      alb.state.set(addr, { arn: `rule:${addr}`, dependsOn: references(body) });
    }
    step(`create ${addr}`);
  }
  // updates of rules still configured, each after (default) or before (create_before_destroy) the deletes of what it depended on
  const updates = [...config].filter(([addr, body]) => addr.startsWith('aws_lb_listener_rule.') && steps.every((s) => s !== `create ${addr}`)
    && !(body.lifecycle?.ignore_changes ?? []).includes('action') && !sameForward(alb.rules.get(addr) ?? [], forwardOf(body, arnOf)));
  const deletes = [
    // rules first (they depend on the target groups), then target groups
    ...removed.filter((a) => a.startsWith('aws_lb_listener_rule.')),
    ...removed.filter((a) => a.startsWith('aws_lb_target_group.')),
  ];
  const del = (addr: string): string | undefined => {
    const arn = alb.state.get(addr)!.arn;
    if (addr.startsWith('aws_lb_target_group.')) {
      const user = [...alb.rules].find(([, f]) => f.some((t) => t.arn === arn));
      if (user) return `deleting ${addr}: ResourceInUse: Target group '${arn}' is currently in use by a listener or a rule (${user[0]})`;
      alb.targetGroups.delete(arn);
    } else {
      alb.rules.delete(addr);
    }
    alb.state.delete(addr);
    step(`delete ${addr}`);
    return undefined;
  };
  const update = ([addr, body]: [string, Config]) => {
    alb.rules.set(addr, forwardOf(body, arnOf));
    alb.state.set(addr, { arn: `rule:${addr}`, dependsOn: references(body) });
    step(`update ${addr}`);
  };
  const early = deletes.filter((d) => !cbd(d) && updates.some(([a]) => alb.state.get(a)?.dependsOn.includes(d)));
  for (const d of [...deletes.filter((x) => x.startsWith('aws_lb_listener_rule.')), ...early.filter((x) => !x.startsWith('aws_lb_listener_rule.'))]) {
    const error = del(d);
    if (error) return { ok: false, error, steps, routedAfterEachStep };
  }
  for (const u of updates) update(u);
  for (const d of deletes.filter((x) => alb.state.has(x))) {
    const error = del(d);
    if (error) return { ok: false, error, steps, routedAfterEachStep };
  }
  // what the state records for the next plan
  for (const [addr, body] of config) {
    const s = alb.state.get(addr);
    if (s) alb.state.set(addr, { ...s, dependsOn: references(body), ...(body.lifecycle?.create_before_destroy ? { cbd: true } : {}) });
  }
  return { ok: true, steps, routedAfterEachStep };
}

/** The target group ARN of the version named `name` (`<prefix>-<version>`). */
export function targetGroupArn(alb: LiveAlb, name: string): string {
  const arn = [...alb.targetGroups].find((a) => a.includes(`targetgroup/${name}/`));
  if (!arn) throw new Error(`no target group ${name}`);
  return arn;
}
