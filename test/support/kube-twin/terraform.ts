/**
 * `cdktf deploy` of `kubernetes_manifest` resources (terraform-provider-kubernetes), as plan + apply against the
 * twin over HTTP, with the provider's credentials (the admin token).
 *
 * Follows hashicorp/terraform-provider-kubernetes at 3a33fb6 (manifest/provider/plan.go, apply.go):
 * - field manager: `field_manager.name`, default "Terraform"; `force_conflicts` default false
 *   (plan.go:72-104 `defaultFieldManagerName`, `getFieldManagerConfig`);
 * - the write is one server-side apply: `rs.Patch(name, types.ApplyPatchType, json, PatchOptions{FieldManager,
 *   Force})` (apply.go:376-380); a 409 fails the resource with "There was a field manager conflict ... You can
 *   override this conflict by setting "force_conflicts" to true in the "field_manager" block." (apply.go:384-392);
 * - create checks first that the object does not exist ("Cannot create resource that already exists",
 *   apply.go:318-330);
 * - `computed_fields` (default `metadata.annotations`, `metadata.labels`; apply.go:102-135): at plan, a computed
 *   field whose configured value did not change since the last apply takes the value read from the cluster, one
 *   whose configured value changed becomes unknown (plan.go:449-476); at apply, an unknown computed field is
 *   filled with the manifest's value (apply.go:186-220, "we replace computed attributes (showing as Unknown) with
 *   their actual user-supplied values from manifest"). So an unchanged manifest re-sends the LIVE values of its
 *   computed fields and a changed one sends the MANIFEST's values.
 * - Terraform core: a resource whose planned object equals its refreshed state gets no apply call; a resource
 *   removed from the configuration is destroyed (`prevent_destroy` only guards a resource whose block is still in
 *   the configuration: https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle).
 * Simplifications: fields the manifest does not carry are not sent (the provider fills them from the prior state
 * with their live values, which changes nothing and no ownership these scenarios look at); no OpenAPI type
 * morphing; no `wait` blocks; resources are applied one after the other (Terraform runs them in parallel, the
 * twin's clock does not move during a deploy either way).
 */
import { clone, isObject, Json, JsonObject, jsonEqual } from './patch';
import { findKind } from './resources';

/** A `kubernetes_manifest` resource as cdktf synthesizes it (`resource.kubernetes_manifest.<id>`). */
export interface ManifestResource {
  readonly manifest: JsonObject;
  readonly computed_fields?: readonly string[];
  readonly field_manager?: { readonly name?: string; readonly force_conflicts?: boolean };
}

/** What one deploy did. */
export interface DeployResult {
  /** Resources applied (created or updated). */
  readonly applied: string[];
  readonly deleted: string[];
  /** Resources whose apply failed, with the diagnostic. */
  readonly errors: Array<{ readonly resource: string; readonly status: number; readonly message: string }>;
}

interface StateEntry { manifest: JsonObject; object: JsonObject }

const DEFAULT_COMPUTED = ['metadata.annotations', 'metadata.labels'];

/** Terraform state of one stack of `kubernetes_manifest` resources, deployed to one twin. */
export class TerraformKubernetesManifests {
  private readonly state = new Map<string, StateEntry>();

  constructor(private readonly server: string, private readonly token: string) {}

  /** `terraform apply` of the configuration `resources` (by resource id). */
  public async deploy(resources: Readonly<Record<string, ManifestResource>>): Promise<DeployResult> {
    const result: DeployResult = { applied: [], deleted: [], errors: [] };
    for (const [id, r] of Object.entries(resources)) {
      const prior = this.state.get(id);
      const url = this.objectUrl(r.manifest);
      const live = prior ? await this.get(url) : undefined;
      let payload: JsonObject;
      if (!prior) {
        if ((await this.request('GET', url)).status !== 404) {
          result.errors.push({ resource: id, status: 409, message: `Cannot create resource that already exists: ${url}` });
          continue;
        }
        payload = clone(r.manifest) as JsonObject;
      } else {
        payload = planned(r, prior.manifest, live);
        // Terraform calls apply only when the plan differs from the refreshed state
        if (jsonEqual(prior.manifest, r.manifest) && live && carries(live, payload)) continue;
      }
      const manager = r.field_manager?.name ?? 'Terraform';
      const force = r.field_manager?.force_conflicts ?? false;
      const res = await this.request('PATCH', `${url}?fieldManager=${encodeURIComponent(manager)}&force=${force}`, payload);
      if (res.status >= 300) {
        const message = String((res.body as JsonObject | undefined)?.message ?? res.status);
        result.errors.push({ resource: id, status: res.status, message: res.status === 409 ? `There was a field manager conflict: ${message}` : message });
        continue;
      }
      this.state.set(id, { manifest: clone(r.manifest) as JsonObject, object: res.body as JsonObject });
      result.applied.push(id);
    }
    for (const [id, entry] of [...this.state.entries()]) {
      if (id in resources) continue;
      const res = await this.request('DELETE', this.objectUrl(entry.manifest));
      if (res.status >= 300 && res.status !== 404) {
        result.errors.push({ resource: id, status: res.status, message: String((res.body as JsonObject | undefined)?.message ?? res.status) });
        continue;
      }
      this.state.delete(id);
      result.deleted.push(id);
    }
    return result;
  }

  private objectUrl(m: JsonObject): string {
    const apiVersion = String(m.apiVersion);
    const def = findKind(apiVersion, String(m.kind));
    if (!def) throw new Error(`the twin does not serve ${apiVersion} ${String(m.kind)}`);
    const meta = isObject(m.metadata) ? m.metadata : {};
    const base = def.group === '' ? `/api/${def.version}` : `/apis/${def.group}/${def.version}`;
    const ns = def.namespaced ? `/namespaces/${String(meta.namespace ?? 'default')}` : '';
    return `${base}${ns}/${def.resource}/${String(meta.name)}`;
  }

  private async get(url: string): Promise<JsonObject | undefined> {
    const res = await this.request('GET', url);
    return res.status === 200 ? (res.body as JsonObject) : undefined;
  }

  private async request(method: string, url: string, body?: Json): Promise<{ status: number; body: Json | undefined }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: 'application/json' };
    // client-go sends the apply body as JSON with the apply-patch content type (JSON is YAML)
    if (body !== undefined) headers['Content-Type'] = 'application/apply-patch+yaml';
    const res = await fetch(`${this.server}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: Json | undefined;
    try {
      parsed = text ? (JSON.parse(text) as Json) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  }
}

/** The object the provider sends for an update: the manifest, with the computed fields per plan.go:449-476. */
function planned(r: ManifestResource, priorManifest: JsonObject, live: JsonObject | undefined): JsonObject {
  const out = clone(r.manifest) as JsonObject;
  for (const field of r.computed_fields ?? DEFAULT_COMPUTED) {
    const path = field.split('.');
    const now = at(r.manifest, path);
    if (now === undefined) continue;
    const changed = !jsonEqual(at(priorManifest, path) ?? null, now);
    const current = live ? at(live, path) : undefined;
    if (!changed && current !== undefined) put(out, path, clone(current));
  }
  return out;
}

/** Whether every leaf of `payload` has the same value in `live` (lists compared whole). */
function carries(live: Json | undefined, payload: Json): boolean {
  if (isObject(payload)) return isObject(live) && Object.entries(payload).every(([k, v]) => carries(live[k], v));
  return jsonEqual(live ?? null, payload);
}

function at(o: Json | undefined, path: readonly string[]): Json | undefined {
  let cur = o;
  for (const k of path) cur = isObject(cur) ? cur[k] : undefined;
  return cur;
}

function put(o: JsonObject, path: readonly string[], value: Json): void {
  let cur = o;
  for (const k of path.slice(0, -1)) cur = (isObject(cur[k]) ? cur[k] : (cur[k] = {})) as JsonObject;
  cur[path[path.length - 1]] = value;
}
