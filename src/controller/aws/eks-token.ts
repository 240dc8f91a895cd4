/**
 * An EKS API bearer token from the Lambda's IAM credentials: a presigned STS GetCallerIdentity URL naming the
 * cluster in a signed `x-k8s-aws-id` header, as aws-iam-authenticator and `aws eks get-token` make it. Valid 60 s;
 * the cluster maps the role through an access entry.
 */
import { regionalHost } from './partition';
import { AwsCredentials, presignV4 } from './sigv4';

/** The bearer token for `cluster` in `region` at `now`; `suffix` is the partition's DNS suffix (`partition.ts`). */
export function eksToken(cluster: string, region: string, credentials: AwsCredentials, now = new Date(), suffix = 'amazonaws.com'): string {
  const url = presignV4(
    { method: 'GET', host: regionalHost('sts', region, suffix), path: '/', headers: { 'x-k8s-aws-id': cluster }, body: '' },
    { Action: 'GetCallerIdentity', Version: '2011-06-15' }, 60, 'sts', region, credentials, now,
  );
  return `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`;
}
