/**
 * A `kubernetes_manifest` resource for cdktn (copied into the cdktn flavor's src/aws/ by flavors/cdktn/build.js).
 *
 * `@cdktn/provider-kubernetes` is not published, so this small hand-written resource stands in for
 * `@cdktf/provider-kubernetes`'s `Manifest`: same Terraform type, same provider metadata, and the attributes the
 * library sets (`manifest`, `computed_fields`, plus the meta-arguments such as `lifecycle` that `TerraformResource`
 * renders), so the synthesized `resource` blocks match the cdktf build's. Other attributes of the resource
 * (`wait`, `field_manager`, `timeouts`, `object`) can be set with `addOverride`.
 * @see https://registry.terraform.io/providers/hashicorp/kubernetes/latest/docs/resources/manifest
 */
import { TerraformMetaArguments, TerraformResource } from 'cdktn';
import { Construct } from 'constructs';

/** Props of `Manifest`: the object and which of its fields Terraform treats as computed. */
export interface ManifestConfig extends TerraformMetaArguments {
  /** The Kubernetes object, as its JSON form (`apiVersion`, `kind`, `metadata`, ...). */
  readonly manifest: { [key: string]: any };
  /**
   * Paths of fields whose values may be changed by others after apply (e.g. `metadata.annotations`).
   * @default - the provider's default (`metadata.annotations`, `metadata.labels`)
   */
  readonly computedFields?: string[];
}

/**
 * A `kubernetes_manifest` resource (hashicorp/kubernetes). A kubernetes provider must be configured by the stack.
 */
export class Manifest extends TerraformResource {
  /** The Terraform resource type. */
  public static readonly tfResourceType = 'kubernetes_manifest';

  private readonly _manifest: { [key: string]: any };
  private readonly _computedFields?: string[];

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
      manifest: this._manifest,
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs: { [name: string]: any } = {
      computed_fields: { value: this._computedFields, isBlock: false, type: 'list', storageClassType: 'stringList' },
      manifest: { value: this._manifest, isBlock: false, type: 'map', storageClassType: 'anyMap' },
    };
    return Object.fromEntries(Object.entries(attrs).filter(([, a]) => a.value !== undefined));
  }
}
