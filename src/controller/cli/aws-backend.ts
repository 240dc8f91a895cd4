/**
 * The CLI's AWS backend (`--aws`): the rollout's spec parameter (SSM) and state table (DynamoDB) through the AWS
 * SDK. Bundled apart from the Kubernetes CLI (assets/controller/cli/aws-backend/index.js) and loaded by `main.ts`
 * only with `--aws`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Backend, CliArgs } from './backend';
import { controllerFunctionName, specParameterName, stateTableName } from '../../core/constants';
import { DynamoStore } from '../aws/adapter';

/**
 * AWS: the spec from the SSM spec parameter, state and commands from the DynamoDB table it names (conditional
 * writes: a command is stored once and never overwritten).
 */
export function awsBackend(rollout: string, flags: CliArgs['flags'], lambda?: Pick<LambdaClient, 'send'>): Backend {
  const region = typeof flags.region === 'string' ? flags.region : undefined;
  const ssm = new SSMClient({ region });
  const ddb = new DynamoDBClient({ region });
  const specParameter = typeof flags['spec-parameter'] === 'string' ? flags['spec-parameter'] : specParameterName(rollout);
  let store: DynamoStore | undefined;
  let controllerFunction = controllerFunctionName(rollout);
  const open = async (): Promise<DynamoStore> => {
    if (store) return store;
    const probe = new DynamoStore(ddb, ssm, specParameter, stateTableName(rollout));
    const doc = await probe.readSpec();
    controllerFunction = doc.controllerFunction ?? controllerFunction;
    store = doc.stateTable ? new DynamoStore(ddb, ssm, specParameter, doc.stateTable) : probe;
    return store;
  };
  return {
    read: async () => (await open()).read(),
    appendCommand: async (kind, id, at) => (await open()).appendCommand(kind, id, at),
    wake: async () => {
      await open();
      return invokeController(lambda ?? new LambdaClient({ region }), controllerFunction);
    },
  };
}

/**
 * Invoke the controller once, asynchronously (`InvocationType: Event`: Lambda queues the event and answers 202 at
 * once; a delivery throttled by the function's reserved concurrency of 1 goes back to the queue and is tried again).
 * The caller needs `lambda:InvokeFunction` on the function. The tick it runs reads the command, and enables the
 * schedule again while the rollout has work.
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
 */
export async function invokeController(lambda: Pick<LambdaClient, 'send'>, functionName: string): Promise<{ ok: boolean; target: string; error?: string }> {
  try {
    const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ source: 'model-rollout' })) }));
    if (out.StatusCode !== undefined && out.StatusCode !== 202) return { ok: false, target: functionName, error: `Lambda answered ${out.StatusCode}` };
    return { ok: true, target: functionName };
  } catch (e) {
    return { ok: false, target: functionName, error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}
