/**
 * The kube-twin API server over plain HTTP: verbs, patches, server-side apply, RBAC from stored Roles, errors,
 * fault injection, the direct-access helpers. The real-kubectl and world tests live in kubectl.test.ts and world.test.ts.
 */
import { KubeTwin } from '../../support/kube-twin';

let twin: KubeTwin;

beforeAll(async () => {
  twin = await KubeTwin.start();
});
afterAll(async () => {
  await twin.stop();
});

interface Reply { status: number; body: any }

async function api(method: string, path: string, body?: unknown, contentType = 'application/json', token = twin.adminToken): Promise<Reply> {
  const res = await fetch(`${twin.url}${path}`, {
    method,
    headers: { 'Authorization': `Bearer ${token}`, 'Content-Type': contentType, 'User-Agent': 'twin-test/1.0' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';

function deployment(name: string, replicas = 1): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'm:1', env: [{ name: 'A', value: '1' }] }, { name: 'side', image: 's:1' }] } },
    },
  };
}

describe('objects and metadata', () => {
  test('create stamps uid, creationTimestamp, generation and a global resourceVersion; duplicate is 409 AlreadyExists', async () => {
    const a = await api('POST', DEPLOY, deployment('meta-a'));
    const b = await api('POST', DEPLOY, deployment('meta-b'));
    expect(a.status).toBe(201);
    expect(a.body.metadata).toMatchObject({ generation: 1, namespace: 'default' });
    expect(a.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(b.body.metadata.resourceVersion)).toBeGreaterThan(Number(a.body.metadata.resourceVersion));
    const dup = await api('POST', DEPLOY, deployment('meta-a'));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409 });
  });

  test('generation moves on spec changes only; managedFields records the default manager from the User-Agent', async () => {
    await api('POST', DEPLOY, deployment('gen'));
    const label = await api('PATCH', `${DEPLOY}/gen`, { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json');
    expect(label.body.metadata.generation).toBe(1);
    const spec = await api('PATCH', `${DEPLOY}/gen`, { spec: { replicas: 4 } }, 'application/merge-patch+json');
    expect(spec.body.metadata.generation).toBe(2);
    expect(spec.body.metadata.managedFields.map((m: any) => m.manager)).toEqual(['twin-test']);
    expect(spec.body.metadata.managedFields[0].fieldsV1['f:spec']['f:replicas']).toEqual({});
  });

  test('PUT with a stale resourceVersion is 409 Conflict; with the current one it succeeds', async () => {
    const created = (await api('POST', DEPLOY, deployment('put'))).body;
    await api('PATCH', `${DEPLOY}/put`, { spec: { replicas: 2 } }, 'application/merge-patch+json');
    const stale = await api('PUT', `${DEPLOY}/put`, { ...created, spec: { ...created.spec, replicas: 9 } });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    expect(stale.body.message).toContain('the object has been modified');
    const fresh = (await api('GET', `${DEPLOY}/put`)).body;
    const ok = await api('PUT', `${DEPLOY}/put`, { ...fresh, spec: { ...fresh.spec, replicas: 9 } });
    expect(ok.status).toBe(200);
    expect(ok.body.spec.replicas).toBe(9);
  });

  test('cluster-scoped NodePool: namespaced URL is 404, cluster URL works and stores no namespace', async () => {
    const np = { apiVersion: 'karpenter.sh/v1', kind: 'NodePool', metadata: { name: 'gpu' }, spec: { template: { spec: {} } } };
    expect((await api('POST', '/apis/karpenter.sh/v1/namespaces/default/nodepools', np)).status).toBe(404);
    const created = await api('POST', '/apis/karpenter.sh/v1/nodepools', np);
    expect(created.status).toBe(201);
    expect(created.body.metadata.namespace).toBeUndefined();
    expect((await api('GET', '/apis/karpenter.k8s.aws/v1/ec2nodeclasses')).body.kind).toBe('EC2NodeClassList');
  });

  test('creating in a missing namespace is 404 (NamespaceLifecycle); lists filter by label selector', async () => {
    const r = await api('POST', '/api/v1/namespaces/nope/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
    expect(r.status).toBe(404);
    expect(r.body.message).toBe('namespaces "nope" not found');
    for (const [n, tier] of [['l1', 'a'], ['l2', 'b']]) {
      await api('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, labels: { tier } } });
    }
    const list = await api('GET', '/api/v1/namespaces/default/configmaps?labelSelector=tier%3Db');
    expect(list.body.items.map((o: any) => o.metadata.name)).toEqual(['l2']);
  });

  test('scale subresource reads and writes spec.replicas', async () => {
    await api('POST', DEPLOY, deployment('sc', 2));
    const scale = await api('GET', `${DEPLOY}/sc/scale`);
    expect(scale.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 2 }, status: { selector: 'app=sc' } });
    const patched = await api('PATCH', `${DEPLOY}/sc/scale?fieldManager=scaler`, { spec: { replicas: 5 } }, 'application/merge-patch+json');
    expect(patched.body.spec.replicas).toBe(5);
    const d = (await api('GET', `${DEPLOY}/sc`)).body;
    expect(d.spec.replicas).toBe(5);
    expect(d.metadata.managedFields.find((m: any) => m.manager === 'scaler')).toMatchObject({ subresource: 'scale', operation: 'Update' });
  });
});

describe('patches', () => {
  test('JSON patch: a failed test is 422 and changes nothing; missing path for replace/remove is 422', async () => {
    await api('POST', DEPLOY, deployment('jp', 3));
    const failed = await api('PATCH', `${DEPLOY}/jp`, [
      { op: 'replace', path: '/spec/replicas', value: 7 },
      { op: 'test', path: '/spec/replicas', value: 3 },
    ], 'application/json-patch+json');
    expect(failed.status).toBe(422);
    expect(failed.body).toMatchObject({ kind: 'Status', code: 422 });
    expect(failed.body.message).toContain('test failed');
    expect((await api('GET', `${DEPLOY}/jp`)).body.spec.replicas).toBe(3);
    expect((await api('PATCH', `${DEPLOY}/jp`, [{ op: 'replace', path: '/spec/nothing', value: 1 }], 'application/json-patch+json')).status).toBe(422);
    expect((await api('PATCH', `${DEPLOY}/jp`, [{ op: 'remove', path: '/metadata/labels/none' }], 'application/json-patch+json')).status).toBe(422);
  });

  test('JSON patch: add/move/copy/remove with ~1 escapes, and a passing test', async () => {
    const r = await api('PATCH', `${DEPLOY}/jp`, [
      { op: 'test', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/metadata/annotations', value: { 'a/b': '1' } },
      { op: 'copy', from: '/metadata/annotations/a~1b', path: '/metadata/annotations/c' },
      { op: 'move', from: '/metadata/annotations/c', path: '/metadata/annotations/d' },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'third', image: 't:1' } },
      { op: 'remove', path: '/spec/template/spec/containers/1' },
    ], 'application/json-patch+json');
    expect(r.status).toBe(200);
    expect(r.body.metadata.annotations).toEqual({ 'a/b': '1', 'd': '1' });
    expect(r.body.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['main', 'third']);
  });

  test('merge patch (RFC 7386): null deletes, lists replace whole', async () => {
    await api('POST', DEPLOY, deployment('mp'));
    const r = await api('PATCH', `${DEPLOY}/mp`, {
      metadata: { labels: { app: null, extra: 'x' } },
      spec: { template: { spec: { containers: [{ name: 'only', image: 'o:1' }] } } },
    }, 'application/merge-patch+json');
    expect(r.body.metadata.labels).toEqual({ extra: 'x' });
    expect(r.body.spec.template.spec.containers).toEqual([{ name: 'only', image: 'o:1' }]);
  });

  test('strategic merge: containers and env merge by name, $patch: delete removes, $setElementOrder orders', async () => {
    await api('POST', DEPLOY, deployment('smp'));
    const r = await api('PATCH', `${DEPLOY}/smp`, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'side' }, { name: 'main' }],
            'containers': [
              { name: 'main', image: 'm:2', env: [{ name: 'B', value: '2' }] },
              { name: 'side', $patch: 'delete' },
              { name: 'new', image: 'n:1' },
            ],
          },
        },
      },
    }, 'application/strategic-merge-patch+json');
    expect(r.status).toBe(200);
    const cs = r.body.spec.template.spec.containers;
    expect(cs.map((c: any) => c.name)).toEqual(['main', 'new']);
    expect(cs[0]).toEqual({ name: 'main', image: 'm:2', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] });
  });

  test('strategic merge on a custom resource (HTTPRoute) is 415 UnsupportedMediaType', async () => {
    const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { rules: [] } };
    await api('POST', '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes', route);
    const r = await api('PATCH', '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/r', { spec: { rules: [] } }, 'application/strategic-merge-patch+json');
    expect(r.status).toBe(415);
    expect(r.body.reason).toBe('UnsupportedMediaType');
  });
});

describe('server-side apply', () => {
  const ssa = (name: string, manager: string | undefined, body: unknown, force = false): Promise<Reply> =>
    api('PATCH', `${DEPLOY}/${name}?${manager ? `fieldManager=${manager}&` : ''}force=${force}`, body, 'application/apply-patch+yaml');

  test('fieldManager is required (422)', async () => {
    expect((await ssa('ssa0', undefined, deployment('ssa0'))).status).toBe(422);
  });

  test('conflict with another applier (409 with causes) unless forced; equal values are shared', async () => {
    expect((await ssa('ssa1', 'alice', deployment('ssa1', 2))).status).toBe(201);
    const same = await ssa('ssa1', 'bob', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ssa1' }, spec: { replicas: 2 } });
    expect(same.status).toBe(200);
    const clash = await ssa('ssa1', 'carol', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ssa1' }, spec: { replicas: 3 } });
    expect(clash.status).toBe(409);
    expect(clash.body.message).toBe('Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\nconflicts with "bob":\n- .spec.replicas');
    expect(clash.body.details.causes).toContainEqual({ type: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.replicas' });
    const forced = await ssa('ssa1', 'carol', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ssa1' }, spec: { replicas: 3 } }, true);
    expect(forced.status).toBe(200);
    expect(forced.body.spec.replicas).toBe(3);
    const owners = forced.body.metadata.managedFields.filter((m: any) => m.fieldsV1['f:spec']?.['f:replicas']).map((m: any) => m.manager);
    expect(owners).toEqual(['carol']);
  });

  test('an Update manager conflicts too, printed "x" using apps/v1; fields dropped from the applied config are removed', async () => {
    await ssa('ssa2', 'alice', deployment('ssa2'));
    await api('PATCH', `${DEPLOY}/ssa2?fieldManager=editor`, { spec: { template: { spec: { containers: [{ name: 'main', image: 'm:9' }] } } } }, 'application/strategic-merge-patch+json');
    const clash = await ssa('ssa2', 'alice', deployment('ssa2'));
    expect(clash.status).toBe(409);
    expect(clash.body.message).toBe('Apply failed with 1 conflict: conflict with "editor" using apps/v1: .spec.template.spec.containers[name="main"].image');
    const slim = deployment('ssa2') as any;
    slim.spec.template.spec.containers = [{ name: 'main', image: 'm:9' }];
    const ok = await ssa('ssa2', 'alice', slim);
    expect(ok.status).toBe(200);
    expect(ok.body.spec.template.spec.containers).toEqual([{ name: 'main', image: 'm:9' }]);
  });

  test('HTTPRoute spec.rules is atomic: a second applier changing one rule conflicts on the whole list', async () => {
    const path = '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/atomic';
    const route = (w: number) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'atomic' },
      spec: { rules: [{ backendRefs: [{ name: 'a', port: 80, weight: w }] }] },
    });
    expect((await api('PATCH', `${path}?fieldManager=one`, route(1), 'application/apply-patch+yaml')).status).toBe(201);
    const clash = await api('PATCH', `${path}?fieldManager=two`, route(2), 'application/apply-patch+yaml');
    expect(clash.status).toBe(409);
    expect(clash.body.details.causes[0].field).toBe('.spec.rules');
  });
});

describe('RBAC from stored Roles', () => {
  test('resourceNames limits get/patch to the named object; create cannot be name-limited; 403 is a Forbidden Status', async () => {
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });
    await api('POST', '/api/v1/namespaces/team/configmaps', cm('mine'));
    await api('POST', '/api/v1/namespaces/team/configmaps', cm('theirs'));
    await api('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'one-cm' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['mine', 'new'], verbs: ['get', 'patch', 'create'] },
        { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['patch'] }],
    });
    await api('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'one-cm' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'one-cm' },
      subjects: [{ kind: 'ServiceAccount', name: 'ctl', namespace: 'team' }],
    });
    const token = twin.serviceAccountToken('team', 'ctl');
    expect((await api('GET', '/api/v1/namespaces/team/configmaps/mine', undefined, undefined, token)).status).toBe(200);
    const other = await api('GET', '/api/v1/namespaces/team/configmaps/theirs', undefined, undefined, token);
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    expect(other.body.message).toBe('configmaps "theirs" is forbidden: User "system:serviceaccount:team:ctl" cannot get resource "configmaps" in API group "" in the namespace "team"');
    expect((await api('PATCH', '/api/v1/namespaces/team/configmaps/mine', { data: { k: 'w' } }, 'application/merge-patch+json', token)).status).toBe(200);
    expect((await api('POST', '/api/v1/namespaces/team/configmaps', cm('new'), undefined, token)).status).toBe(403);
    expect((await api('GET', '/api/v1/namespaces/team/configmaps', undefined, undefined, token)).status).toBe(403);
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/mine', undefined, undefined, token)).status).toBe(403);
    const scale = await api('PATCH', '/apis/apps/v1/namespaces/team/deployments/x/scale', { spec: { replicas: 1 } }, 'application/merge-patch+json', token);
    expect(scale.status).toBe(404); // allowed by RBAC, then not found
    expect((await api('PATCH', '/apis/apps/v1/namespaces/team/deployments/x', {}, 'application/merge-patch+json', token)).status).toBe(403);
    expect((await api('GET', '/api/v1/namespaces/team/configmaps/mine', undefined, undefined, 'bogus')).status).toBe(401);
    // any authenticated user may ask what it may do: the rules of every Role bound to it, names included
    const review = await api('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'team' } }, undefined, token);
    expect(review.status).toBe(201);
    expect(review.body.status.resourceRules).toContainEqual({ verbs: ['get', 'patch', 'create'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['mine', 'new'] });
    const elsewhere = await api('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { spec: { namespace: 'default' } }, undefined, token);
    expect(elsewhere.body.status.resourceRules.filter((r: any) => r.resources.includes('configmaps'))).toEqual([]);
  });
});

describe('faults and the request log', () => {
  test('an injected 500 hits the next matching request only, and the log records it', async () => {
    twin.inject({ method: 'GET', path: `${DEPLOY}/gen`, status: 500 });
    expect((await api('GET', `${DEPLOY}/gen`)).status).toBe(500);
    expect((await api('GET', `${DEPLOY}/gen`)).status).toBe(200);
    const last = twin.requests.slice(-2);
    expect(last.map((r) => r.status)).toEqual([500, 200]);
    expect(last[1]).toMatchObject({ method: 'GET', path: `${DEPLOY}/gen`, user: 'admin', verb: 'get' });
  });

  test('a delay holds the response', async () => {
    twin.inject({ path: /\/configmaps\/l1$/, delayMs: 150 });
    const t0 = Date.now();
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/l1')).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  test('beforeWrite simulates a concurrent writer: the JSON-patch resourceVersion test then fails with 422', async () => {
    const current = (await api('GET', `${DEPLOY}/gen`)).body;
    twin.beforeWrite = (e) => {
      twin.beforeWrite = undefined;
      twin.modify('apps/v1', 'Deployment', e.namespace, e.name, (o) => { (o.spec as any).replicas = 11; }, 'intruder');
    };
    const r = await api('PATCH', `${DEPLOY}/gen`, [
      { op: 'test', path: '/metadata/resourceVersion', value: current.metadata.resourceVersion },
      { op: 'replace', path: '/spec/replicas', value: 1 },
    ], 'application/json-patch+json');
    expect(r.status).toBe(422);
    expect((await api('GET', `${DEPLOY}/gen`)).body.spec.replicas).toBe(11);
  });

  test('a scripted 429 carries its Retry-After header; a trickling answer sends headers and never ends', async () => {
    twin.seedAt('/api/v1/namespaces/default/configmaps/retry', { data: {} });
    twin.inject({ path: '/api/v1/namespaces/default/configmaps/retry', status: 429, retryAfter: '3' });
    const res = await fetch(`${twin.url}/api/v1/namespaces/default/configmaps/retry`, { headers: { Authorization: `Bearer ${twin.adminToken}` } });
    expect([res.status, res.headers.get('retry-after'), ((await res.json()) as { code: number }).code]).toEqual([429, '3', 429]);
    twin.inject({ path: '/api/v1/namespaces/default/configmaps/retry', trickleMs: 20 });
    const started = Date.now();
    const slow = await fetch(`${twin.url}/api/v1/namespaces/default/configmaps/retry`, { headers: { Authorization: `Bearer ${twin.adminToken}` }, signal: AbortSignal.timeout(200) });
    expect(slow.status).toBe(200);
    await expect(slow.text()).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});

describe('behaviour the controller relies on', () => {
  test('an immutable ConfigMap refuses a change to data (422 Invalid, the real message) and keeps its data', async () => {
    twin.seedAt('/api/v1/namespaces/default/configmaps/frozen', { immutable: true, data: { a: '1' } });
    const r = await api('PATCH', '/api/v1/namespaces/default/configmaps/frozen', { data: { a: '2' } }, 'application/merge-patch+json');
    expect([r.status, r.body.reason]).toEqual([422, 'Invalid']);
    expect(r.body.message).toBe('ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set');
    expect(twin.at('/api/v1/namespaces/default/configmaps/frozen').data).toEqual({ a: '1' });
    // a change elsewhere (a label) is allowed
    expect((await api('PATCH', '/api/v1/namespaces/default/configmaps/frozen', { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json')).status).toBe(200);
  });

  test('access by API path: seedAt fills apiVersion, kind, namespace and name; modifyAt bumps resourceVersion; deleteAt removes', async () => {
    const p = '/apis/apps/v1/namespaces/by-path/deployments/d';
    const seeded = twin.seedAt(p, { spec: { replicas: 2 } });
    expect(seeded).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'by-path' } });
    const rv = twin.at(p).metadata.resourceVersion;
    twin.modifyAt(p);
    expect(twin.at(p).metadata.resourceVersion).not.toBe(rv);
    twin.modifyAt(p, (o) => { o.spec.replicas = 3; });
    expect((await api('GET', p)).body.spec.replicas).toBe(3);
    twin.deleteAt(p);
    expect((await api('GET', p)).status).toBe(404);
    expect(() => twin.at('/apis/apps/v1/namespaces/by-path/deployments')).toThrow(/does not name an object/);
  });

  test('tokenWithRole binds a Role to a service account; calling it again replaces the rules', async () => {
    twin.seedAt('/api/v1/namespaces/roles/configmaps/c', { data: {} });
    const token = twin.tokenWithRole('roles', 'reader', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['c'] }]);
    expect((await api('GET', '/api/v1/namespaces/roles/configmaps/c', undefined, 'application/json', token)).status).toBe(200);
    expect(twin.tokenWithRole('roles', 'reader', [])).toBe(token);
    expect((await api('GET', '/api/v1/namespaces/roles/configmaps/c', undefined, 'application/json', token)).status).toBe(403);
  });

  test('prune removes fields from a written object before it is stored, as an older CRD schema would', async () => {
    twin.seedAt('/api/v1/namespaces/default/configmaps/pruned', { data: { keep: '1' } });
    twin.prune = (e, obj) => { if (e.name === 'pruned') delete (obj.data as Record<string, unknown>).drop; };
    try {
      const r = await api('PATCH', '/api/v1/namespaces/default/configmaps/pruned', { data: { drop: 'x', keep: '2' } }, 'application/merge-patch+json');
      expect([r.status, r.body.data]).toEqual([200, { keep: '2' }]);
    } finally {
      twin.prune = undefined;
    }
  });
});
