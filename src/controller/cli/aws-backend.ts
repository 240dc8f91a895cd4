/**
 * The CLI's AWS backend (`--aws`): the rollout's spec parameter (SSM) and state table (DynamoDB) through the AWS
 * SDK. Bundled apart from the Kubernetes CLI (assets/controller/cli/aws-backend/index.js) and loaded by `main.ts`
 * only with `--aws`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Backend, CliArgs } from './backend';
import { specParameterName, stateTableName } from '../../core/constants';
import { DynamoStore } from '../aws/adapter';

/**
 * AWS: the spec from the SSM spec parameter, state and commands from the DynamoDB table it names (conditional
 * writes: a command is stored once and never overwritten).
 */
export function awsBackend(rollout: string, flags: CliArgs['flags']): Backend {
  const region = typeof flags.region === 'string' ? flags.region : undefined;
  const ssm = new SSMClient({ region });
  const ddb = new DynamoDBClient({ region });
  const specParameter = typeof flags['spec-parameter'] === 'string' ? flags['spec-parameter'] : specParameterName(rollout);
  let store: DynamoStore | undefined;
  const open = async (): Promise<DynamoStore> => {
    if (store) return store;
    const probe = new DynamoStore(ddb, ssm, specParameter, stateTableName(rollout));
    const { stateTable } = await probe.readSpec();
    store = stateTable ? new DynamoStore(ddb, ssm, specParameter, stateTable) : probe;
    return store;
  };
  return {
    read: async () => (await open()).read(),
    appendCommand: async (kind, id, at) => (await open()).appendCommand(kind, id, at),
  };
}
