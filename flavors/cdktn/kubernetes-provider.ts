/**
 * A minimal `kubernetes` provider block for cdktn, used by the cdktn build of examples/aws-eks-gpu (test fixture,
 * not part of the package). `@cdktn/provider-kubernetes` is not published; a real stack generates its provider
 * bindings with the cdktn CLI or writes a block like this one.
 */
import { TerraformProvider } from 'cdktn';
import { Construct } from 'constructs';

export interface KubernetesProviderExec {
  readonly apiVersion: string;
  readonly command: string;
  readonly args?: string[];
}

export interface KubernetesProviderConfig {
  readonly host?: string;
  readonly clusterCaCertificate?: string;
  readonly exec?: KubernetesProviderExec[];
}

export class KubernetesProvider extends TerraformProvider {
  constructor(scope: Construct, id: string, private readonly config: KubernetesProviderConfig) {
    super(scope, id, {
      terraformResourceType: 'kubernetes',
      terraformGeneratorMetadata: { providerName: 'kubernetes', providerVersionConstraint: '~> 2.0' },
      terraformProviderSource: 'kubernetes',
    });
  }

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      host: this.config.host,
      cluster_ca_certificate: this.config.clusterCaCertificate,
      exec: this.config.exec?.map((e) => ({ api_version: e.apiVersion, command: e.command, args: e.args })),
    };
  }
}
