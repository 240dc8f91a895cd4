/**
 * The CLI's AWS backend (`--aws`): the rollout's SSM parameters through the AWS SDK. Bundled apart from the
 * Kubernetes CLI (assets/controller/cli/aws-backend/index.js) and loaded by `main.ts` only with `--aws`.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Backend, CliArgs } from './main';
import { specParameterName, stateParameterName } from '../../core/constants';
import { SsmStore } from '../aws/adapter';

export function awsBackend(rollout: string, flags: CliArgs['flags']): Backend {
  const region = typeof flags.region === 'string' ? flags.region : undefined;
  const store = new SsmStore(new SSMClient({ region }),
    typeof flags['spec-parameter'] === 'string' ? flags['spec-parameter'] : specParameterName(rollout),
    typeof flags['state-parameter'] === 'string' ? flags['state-parameter'] : stateParameterName(rollout));
  return { read: async () => store.read(), appendCommand: (kind, id, at) => store.appendCommand(kind, id, at) };
}
