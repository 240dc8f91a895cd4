/**
 * API errors as `Status` objects (kind Status, apiVersion v1, status Failure, reason, code, details).
 *
 * Follows: the `Status` kind and the reason/code table of the Kubernetes API conventions
 * (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md
 * "Response Status Kind"), and the constructors of k8s.io/apimachinery/pkg/api/errors/errors.go
 * (NewNotFound "<resource>.<group> \"<name>\" not found", NewAlreadyExists, NewConflict
 * "Operation cannot be fulfilled on ...", NewForbidden, NewApplyConflict, NewGenericServerResponse).
 */

export type Reason =
  | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid' | 'Forbidden' | 'Unauthorized' | 'BadRequest'
  | 'UnsupportedMediaType' | 'MethodNotAllowed' | 'InternalError' | '';

export interface StatusCause { readonly type?: string; readonly message: string; readonly field?: string }

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
}

/** An error that the server answers as a `Status` body with `code` as the HTTP status. */
export class ApiError extends Error {
  constructor(public readonly code: number, public readonly reason: Reason, message: string, public readonly details?: StatusDetails) {
    super(message);
  }

  public toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason || undefined,
      details: this.details,
      code: this.code,
    };
  }
}

/** `deployments.apps` / `configmaps`: the qualified resource name the real messages use. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const notFound = (resource: string, group: string, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, group, kind: resource });

export const alreadyExists = (resource: string, group: string, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, { name, group, kind: resource });

export const conflict = (resource: string, group: string, name: string, why: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, { name, group, kind: resource });

export const invalid = (kind: string, group: string, name: string, causes: StatusCause[]): ApiError =>
  new ApiError(422, 'Invalid', `${kind}${group ? '.' + group : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    { name, group, kind, causes });

/** 422 without a reason: what the server answers when a JSON patch cannot be applied (NewGenericServerResponse). */
export const unprocessable = (message: string): ApiError => new ApiError(422, '', message);

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

export const unsupportedMediaType = (contentType: string): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`);
