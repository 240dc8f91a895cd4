/**
 * An in-memory DynamoDB that follows the documented semantics of the calls the state store makes:
 * - PutItem replaces the whole item; with a `ConditionExpression` that evaluates to false it fails with
 *   `ConditionalCheckFailedException` and writes nothing
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html, "ConditionExpression" and
 *   "Errors"); `attribute_not_exists(pk)` on the key is the documented way to write only a new item
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html).
 * - UpdateItem edits an item's attributes, or adds a new item if it does not exist, under the same condition rule
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html). `SET` only.
 * - GetItem and Query are eventually consistent unless `ConsistentRead` is true: such a read "might not reflect
 *   the results of a recently completed write" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html).
 *   With `staleReads`, a read without `ConsistentRead` returns the item as it was before its last write (the
 *   worst answer the documentation allows), so a store that forgets `ConsistentRead` shows it.
 * - Query: `KeyConditionExpression` on the partition key with an optional `=, <, <=, >, >=` on the sort key,
 *   `ScanIndexForward` (sort order), `Limit`, `ExclusiveStartKey`/`LastEvaluatedKey`
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html).
 * - `ReturnValuesOnConditionCheckFailure: ALL_OLD` puts the item in the error.
 * Condition grammar: clauses joined by AND, each `attribute_exists(p)`, `attribute_not_exists(p)`, `a = b` or
 * `a <> b`, where an operand is an attribute name, a `#name` or a `:value`. Enough for this project, no more.
 *
 * Faults: `fault(op)` may answer `lost` (the request fails before DynamoDB sees it) or `unknown` (DynamoDB wrote,
 * the answer never came back: a timeout or a dropped connection), the two outcomes a client cannot tell apart.
 */
import { AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;

/** A deep copy, so that a caller never changes what the fake holds (DynamoDB's answer is a fresh decoding). */
function clone<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

/** What an injected fault does to one write. */
export type Fault = 'lost' | 'unknown' | undefined;

export interface FakeDynamoOptions {
  /** Key schema of every table: partition key and sort key (numbers or strings). */
  readonly partitionKey?: string;
  readonly sortKey?: string;
  /** Reads without ConsistentRead return the item before its last write. */
  readonly staleReads?: boolean;
  /** Decide a fault for a write (PutItem, UpdateItem). */
  readonly fault?: (op: string, input: any) => Fault;
}

/** Decides a fault for one write. */
export type FaultPlan = (op: string, input: any) => Fault;

export class FakeDynamoDB {
  /** Items per table, by `pk|sk`. */
  public readonly tables = new Map<string, Map<string, Item>>();
  /** Every call, in order. */
  public readonly calls: Array<{ readonly op: string; readonly input: any }> = [];
  /** Called after each write that DynamoDB applied. */
  public onWrite?: (table: string, item: Item) => void;
  /** Faults on writes from now on (settable between phases of a test). */
  public fault?: FaultPlan;
  private readonly previous = new Map<string, Item | undefined>();
  private readonly pk: string;
  private readonly sk: string;

  constructor(private readonly options: FakeDynamoOptions = {}) {
    this.pk = options.partitionKey ?? 'pk';
    this.sk = options.sortKey ?? 'sk';
    this.fault = options.fault;
  }

  /** The SDK client's `send`: applies the command at once (before the first await) and answers. */
  public async send(command: { constructor: { name: string }; input: any }): Promise<any> {
    const op = command.constructor.name.replace(/Command$/, '');
    const input = clone(command.input);
    this.calls.push({ op, input });
    switch (op) {
      case 'GetItem': return this.getItem(input);
      case 'PutItem': return this.write(op, input, () => this.putItem(input));
      case 'UpdateItem': return this.write(op, input, () => this.updateItem(input));
      case 'Query': return this.query(input);
      default: throw new Error(`FakeDynamoDB: ${op} is not modelled`);
    }
  }

  /** The items of a table (tests read them directly). */
  public items(table: string): Item[] {
    return [...(this.tables.get(table)?.values() ?? [])].map(clone);
  }

  private write(op: string, input: any, apply: () => any): any {
    const fault = this.fault?.(op, input);
    if (fault === 'lost') throw Object.assign(new Error(`${op}: connection reset before the request reached DynamoDB`), { name: 'TimeoutError' });
    const out = apply();
    if (fault === 'unknown') throw Object.assign(new Error(`${op}: socket timed out waiting for the response`), { name: 'TimeoutError' });
    return out;
  }

  private table(tableName: string): Map<string, Item> {
    if (!tableName) throw new Error('TableName is required');
    let t = this.tables.get(tableName);
    if (!t) this.tables.set(tableName, t = new Map());
    return t;
  }

  private keyOf(table: string, key: Item): string {
    if (!key[this.pk] || !key[this.sk]) throw Object.assign(new Error('The provided key element does not match the schema'), { name: 'ValidationException' });
    return `${table}|${scalar(key[this.pk])}|${scalar(key[this.sk])}`;
  }

  private getItem(input: any): any {
    const id = this.keyOf(input.TableName, input.Key);
    const item = this.read(input.TableName, id, input.ConsistentRead === true);
    return { Item: item ? clone(item) : undefined };
  }

  private read(table: string, id: string, consistent: boolean): Item | undefined {
    if (!consistent && this.options.staleReads && this.previous.has(id)) return this.previous.get(id);
    return this.table(table).get(id);
  }

  private putItem(input: any): any {
    const id = this.keyOf(input.TableName, input.Item);
    const old = this.table(input.TableName).get(id);
    this.check(input, old);
    this.store(input.TableName, id, old, clone(input.Item));
    return {};
  }

  private updateItem(input: any): any {
    const id = this.keyOf(input.TableName, input.Key);
    const old = this.table(input.TableName).get(id);
    this.check(input, old);
    const next: Item = { ...clone(old ?? {}), ...clone(input.Key) };
    const set = /^\s*SET\s+(.*)$/i.exec(input.UpdateExpression ?? '');
    if (!set) throw new Error(`FakeDynamoDB: only "SET a = :v, ..." update expressions are modelled, not ${input.UpdateExpression}`);
    for (const assignment of set[1].split(',')) {
      const [left, right] = assignment.split('=').map((x) => x.trim());
      next[name(left, input)] = value(right, input, next)!;
    }
    this.store(input.TableName, id, old, next);
    return {};
  }

  private store(table: string, id: string, old: Item | undefined, item: Item): void {
    this.previous.set(id, old);
    this.table(table).set(id, item);
    this.onWrite?.(table, clone(item));
  }

  /** A false condition writes nothing. */
  private check(input: any, old: Item | undefined): void {
    if (!input.ConditionExpression) return;
    if (evaluate(input.ConditionExpression, input, old ?? {})) return;
    throw new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: { httpStatusCode: 400 },
      Item: input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old ? clone(old) : undefined,
    });
  }

  private query(input: any): any {
    const m = /^\s*(\S+)\s*=\s*(\S+)(?:\s+AND\s+(\S+)\s*(=|<=|<|>=|>)\s*(\S+))?\s*$/i.exec(input.KeyConditionExpression ?? '');
    if (!m) throw new Error(`FakeDynamoDB: key condition not modelled: ${input.KeyConditionExpression}`);
    const pkValue = scalar(value(m[2], input, {})!);
    const prefix = `${input.TableName}|${pkValue}|`;
    let rows = [...this.table(input.TableName).keys()].filter((k) => k.startsWith(prefix))
      .map((k) => this.read(input.TableName, k, input.ConsistentRead === true)).filter((x): x is Item => x !== undefined);
    if (m[3]) {
      const bound = value(m[5], input, {})!;
      rows = rows.filter((r) => compare(r[this.sk], m[4], bound));
    }
    rows.sort((a, b) => order(a[this.sk], b[this.sk]));
    if (input.ScanIndexForward === false) rows.reverse();
    if (input.ExclusiveStartKey) {
      const after = input.ExclusiveStartKey[this.sk];
      const i = rows.findIndex((r) => scalar(r[this.sk]) === scalar(after));
      rows = rows.slice(i + 1);
    }
    const limited = input.Limit !== undefined ? rows.slice(0, input.Limit) : rows;
    const more = input.Limit !== undefined && rows.length > input.Limit;
    const last = limited[limited.length - 1];
    return {
      Items: limited.map(clone),
      Count: limited.length,
      LastEvaluatedKey: more && last ? { [this.pk]: clone(last[this.pk]), [this.sk]: clone(last[this.sk]) } : undefined,
    };
  }
}

function scalar(v: AttributeValue): string {
  if (v.S !== undefined) return `S:${v.S}`;
  if (v.N !== undefined) return `N:${Number(v.N)}`;
  if (v.BOOL !== undefined) return `BOOL:${v.BOOL}`;
  return JSON.stringify(v);
}

function order(a: AttributeValue, b: AttributeValue): number {
  if (a.N !== undefined && b.N !== undefined) return Number(a.N) - Number(b.N);
  return String(a.S).localeCompare(String(b.S));
}

function compare(a: AttributeValue | undefined, op: string, b: AttributeValue): boolean {
  if (!a) return false;
  const c = order(a, b);
  switch (op) {
    case '=': return c === 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
    default: throw new Error(`operator ${op}`);
  }
}

function name(token: string, input: any): string {
  if (token.startsWith('#')) {
    const n = input.ExpressionAttributeNames?.[token];
    if (!n) throw Object.assign(new Error(`An expression attribute name used in the document path is not defined; attribute name: ${token}`), { name: 'ValidationException' });
    return n;
  }
  return token;
}

function value(token: string, input: any, item: Item): AttributeValue | undefined {
  if (token.startsWith(':')) {
    const v = input.ExpressionAttributeValues?.[token];
    if (!v) throw Object.assign(new Error(`An expression attribute value used in expression is not defined; attribute value: ${token}`), { name: 'ValidationException' });
    return v;
  }
  return item[name(token, input)];
}

function evaluate(expression: string, input: any, item: Item): boolean {
  return expression.split(/\s+AND\s+/i).every((clause) => {
    const fn = /^\s*(attribute_exists|attribute_not_exists)\s*\(\s*(\S+?)\s*\)\s*$/i.exec(clause);
    if (fn) {
      const present = item[name(fn[2], input)] !== undefined;
      return fn[1].toLowerCase() === 'attribute_exists' ? present : !present;
    }
    const cmp = /^\s*(\S+)\s*(=|<>)\s*(\S+)\s*$/.exec(clause);
    if (!cmp) throw new Error(`FakeDynamoDB: condition not modelled: ${clause}`);
    const [a, b] = [value(cmp[1], input, item), value(cmp[3], input, item)];
    // a comparison with a missing attribute is false (=) / true (<>)
    const equal = a !== undefined && b !== undefined && scalar(a) === scalar(b);
    return cmp[2] === '=' ? equal : !equal;
  });
}
