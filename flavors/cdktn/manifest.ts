/**
 * A `kubernetes_manifest` resource for cdktn (copied into the cdktn flavor's src/aws/ by flavors/cdktn/build.js).
 *
 * `@cdktn/provider-kubernetes` is not published, so this small hand-written resource stands in for
 * `@cdktf/provider-kubernetes`'s `Manifest`: same Terraform type, same provider metadata, and the attributes the
 * library sets (`manifest`, `computed_fields`, `field_manager`, plus the meta-arguments such as `lifecycle` that
 * `TerraformResource` renders), so the synthesized `resource` blocks match the cdktf build's. Other attributes of
 * the resource (`wait`, `timeouts`, `object`) can be set with `addOverride`.
 * @see https://registry.terraform.io/providers/hashicorp/kubernetes/latest/docs/resources/manifest
 */
import { TerraformMetaArguments, TerraformResource } from 'cdktn';
import { Construct } from 'constructs';

/** The `field_manager` block of a `kubernetes_manifest`. */
export interface ManifestFieldManager {
  /**
   * The field manager name of the provider's server-side apply.
   * @default "Terraform"
   */
  readonly name?: string;
  /**
   * Take fields owned by other managers instead of failing with a conflict.
   * @default false
   */
  readonly forceConflicts?: boolean;
}

/** Props of `Manifest`: the object and which of its fields Terraform treats as computed. */
export interface ManifestConfig extends TerraformMetaArguments {
  /** The Kubernetes object, as its JSON form (`apiVersion`, `kind`, `metadata`, ...). */
  readonly manifest: { [key: string]: any };
  /**
   * Paths of fields whose values may be changed by others after apply (e.g. `metadata.annotations`).
   * @default - the provider's default (`metadata.annotations`, `metadata.labels`)
   */
  readonly computedFields?: string[];
  /**
   * The field manager of the provider's server-side apply.
   * @default - the provider's ("Terraform", no forcing)
   */
  readonly fieldManager?: ManifestFieldManager;
}

/**
 * A `kubernetes_manifest` resource (hashicorp/kubernetes). A kubernetes provider must be configured by the stack.
 */
export class Manifest extends TerraformResource {
  /** The Terraform resource type. */
  public static readonly tfResourceType = 'kubernetes_manifest';

  private readonly _manifest: { [key: string]: any };
  private readonly _computedFields?: string[];
  private readonly _fieldManager?: ManifestFieldManager;

  constructor(scope: Construct, id: string, config: ManifestConfig) {
    super(scope, id, {
      terraformResourceType: Manifest.tfResourceType,
      terraformGeneratorMetadata: { providerName: 'kubernetes', providerVersionConstraint: '~> 2.0' },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach,
    });
    this._manifest = config.manifest;
    this._computedFields = config.computedFields;
    this._fieldManager = config.fieldManager;
  }

  /** The Kubernetes object. */
  public get manifest(): { [key: string]: any } {
    return this._manifest;
  }

  /** The computed fields, if set. */
  public get computedFields(): string[] | undefined {
    return this._computedFields;
  }

  protected synthesizeAttributes(): { [name: string]: any } {
    // undefined attributes are dropped by TerraformResource, as the generated providers' are
    return {
      computed_fields: this._computedFields,
      field_manager: this.fieldManagerBlock(),
      manifest: this._manifest,
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs: { [name: string]: any } = {
      computed_fields: { value: this._computedFields, isBlock: false, type: 'list', storageClassType: 'stringList' },
      field_manager: { value: this.fieldManagerHcl(), isBlock: true, type: 'list', storageClassType: 'ManifestFieldManagerList' },
      manifest: { value: this._manifest, isBlock: false, type: 'map', storageClassType: 'anyMap' },
    };
    return Object.fromEntries(Object.entries(attrs).filter(([, a]) => a.value !== undefined));
  }

  /** The block as the generated provider renders it: snake_case keys, unset keys left out. */
  private fieldManagerBlock(): { [name: string]: any } | undefined {
    const f = this._fieldManager;
    if (!f) return undefined;
    return Object.fromEntries(Object.entries({ force_conflicts: f.forceConflicts, name: f.name }).filter(([, v]) => v !== undefined));
  }

  /** The block's HCL attributes, as the generated provider's `manifestFieldManagerToHclTerraform` renders them. */
  private fieldManagerHcl(): { [name: string]: any } | undefined {
    const f = this._fieldManager;
    if (!f) return undefined;
    const attrs = {
      force_conflicts: { value: f.forceConflicts, isBlock: false, type: 'simple', storageClassType: 'boolean' },
      name: { value: f.name, isBlock: false, type: 'simple', storageClassType: 'string' },
    };
    return Object.fromEntries(Object.entries(attrs).filter(([, a]) => a.value !== undefined));
  }
}
