/**
 * Hosts of the AWS APIs the controller signs requests for itself (STS for the EKS token, SNS): `<service>.<region>.`
 * followed by the DNS suffix of the region's partition. The Lambda gets the suffix from Terraform's `aws_partition`
 * data source (`dns_suffix`) as `ROLLOUT_AWS_DNS_SUFFIX`; without it, the suffix follows the region's name as the
 * partitions AWS publishes do (`cn-*` is `aws-cn`, `us-iso-*` `aws-iso`, ...).
 * @see https://docs.aws.amazon.com/general/latest/gr/rande.html
 * @see https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/partition
 */
import { ENV_CONTROLLER_AWS_DNS_SUFFIX } from '../../core/constants';

/** Region prefixes of the partitions other than `aws`, and their DNS suffixes (the SDK's partitions.json). */
const PARTITION_SUFFIXES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^cn-/, 'amazonaws.com.cn'],
  [/^us-isob-/, 'sc2s.sgov.gov'],
  [/^us-isof-/, 'csp.hci.ic.gov'],
  [/^eu-isoe-/, 'cloud.adc-e.uk'],
  [/^us-iso-/, 'c2s.ic.gov'],
];

/** The DNS suffix of the partition the Lambda runs in. */
export function dnsSuffix(env: NodeJS.ProcessEnv, region: string): string {
  const given = env[ENV_CONTROLLER_AWS_DNS_SUFFIX];
  if (given) return given;
  return PARTITION_SUFFIXES.find(([re]) => re.test(region))?.[1] ?? 'amazonaws.com';
}

/** `https://<service>.<region>.<suffix>`-style host of a regional API. */
export function regionalHost(service: string, region: string, suffix: string): string {
  return `${service}.${region}.${suffix}`;
}
