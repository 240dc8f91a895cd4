/**
 * An in-memory SSM Parameter Store that follows the documented PutParameter semantics
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html):
 * - a new parameter gets version 1; `Overwrite: true` on an existing one always writes and adds one to the
 *   version, whatever was read before (the API has no expected-version or condition of any kind);
 * - without `Overwrite`, writing an existing parameter fails with `ParameterAlreadyExists` and writes nothing;
 * - the answer carries the new `Version` and the `Tier`.
 * GetParameter returns the latest value and version, or fails with `ParameterNotFound`
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html).
 */
export class FakeSsm {
  public readonly parameters = new Map<string, { value: string; version: number }>();
  /** Every call, in order. */
  public readonly calls: Array<{ readonly op: string; readonly input: any }> = [];
  /** Called after each PutParameter that wrote. */
  public onWrite?: (name: string, value: string) => void;

  /** The SDK client's `send`: applies the command at once (before the first await) and answers. */
  public async send(command: { constructor: { name: string }; input: any }): Promise<any> {
    const op = command.constructor.name.replace(/Command$/, '');
    const input = command.input;
    this.calls.push({ op, input });
    if (op === 'GetParameter') {
      const p = this.parameters.get(input.Name);
      if (!p) throw Object.assign(new Error(`Parameter ${input.Name} not found.`), { name: 'ParameterNotFound' });
      return { Parameter: { Name: input.Name, Value: p.value, Version: p.version, Type: 'String' } };
    }
    if (op === 'PutParameter') {
      const p = this.parameters.get(input.Name);
      if (p && !input.Overwrite) throw Object.assign(new Error('The parameter already exists. To overwrite this value, set the overwrite option in the request to true.'), { name: 'ParameterAlreadyExists' });
      const next = { value: String(input.Value), version: (p?.version ?? 0) + 1 };
      this.parameters.set(input.Name, next);
      this.onWrite?.(input.Name, next.value);
      return { Version: next.version, Tier: 'Standard' };
    }
    throw new Error(`FakeSsm: ${op} is not modelled`);
  }
}
