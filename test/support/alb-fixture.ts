/**
 * The `AlbCanaryRollout` props the AWS construct tests start from: one listener, a stable v1 and a canary v2 ramped in
 * 10 equal steps over 20 minutes. Each test file spreads its own differences over them.
 */
import { Duration } from 'cdk8s';
import { AlbCanaryRolloutProps } from '../../src/aws';
import { Steps } from '../../src/rollout';

export function albRolloutProps(overrides: Partial<AlbCanaryRolloutProps> = {}): AlbCanaryRolloutProps {
  return {
    name: 'llama',
    listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/inference/50dc6c495c0c9188/f2f7dc8efc522ab2',
    vpcId: 'vpc-1',
    priority: 100,
    hostHeaders: ['llama.example.com'],
    versions: [{ name: 'v1' }, { name: 'v2' }],
    stableVersion: 'v1',
    canaries: [{ version: 'v2' }],
    steps: Steps.equal({ count: 10, over: Duration.minutes(20) }),
    ...overrides,
  };
}
