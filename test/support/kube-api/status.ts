/**
 * Kubernetes `Status` objects and the error that carries one. Every failure
 * the test API server answers is a `Status` (kind Status, apiVersion v1,
 * status Failure) with the reason and HTTP code the real server uses.
 */

export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

export interface Status {
  readonly kind: "Status";
  readonly apiVersion: "v1";
  readonly metadata: Record<string, never>;
  readonly status: "Success" | "Failure";
  readonly message?: string;
  readonly reason?: string;
  readonly details?: StatusDetails;
  readonly code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Status {
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: this.message, reason: this.reason, ...(this.details === undefined ? {} : { details: this.details }), code: this.code };
  }
}

/** What a resource is called in messages: `deployments.apps`, or `pods` for the core group. */
export interface ResourceName {
  readonly plural: string;
  readonly group: string;
  readonly kind: string;
}

function qualified(r: ResourceName): string {
  return r.group === "" ? r.plural : `${r.plural}.${r.group}`;
}

export const errors = {
  notFound: (r: ResourceName, name: string) => new ApiError(404, "NotFound", `${qualified(r)} "${name}" not found`, { name, group: r.group, kind: r.plural }),
  alreadyExists: (r: ResourceName, name: string) => new ApiError(409, "AlreadyExists", `${qualified(r)} "${name}" already exists`, { name, group: r.group, kind: r.plural }),
  conflict: (r: ResourceName, name: string, why = "the object has been modified; please apply your changes to the latest version and try again") =>
    new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, { name, group: r.group, kind: r.plural }),
  invalid: (r: ResourceName, name: string, causes: readonly StatusCause[]) =>
    new ApiError(422, "Invalid", `${r.kind}${r.group === "" ? "" : "." + r.group} "${name}" is invalid: ${causes.map((c) => `${c.field ?? ""}: ${c.message ?? ""}`).join(", ")}`, { name, group: r.group, kind: r.kind, causes }),
  badRequest: (message: string) => new ApiError(400, "BadRequest", message),
  gone: (message: string) => new ApiError(410, "Expired", message),
  methodNotAllowed: (message: string) => new ApiError(405, "MethodNotAllowed", message),
  unsupportedMediaType: (contentType: string, accepted: readonly string[]) =>
    new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`, { causes: [{ reason: "UnsupportedMediaType", message: contentType }] }),
  tooManyRequests: (retryAfterSeconds: number) => new ApiError(429, "TooManyRequests", "the server has received too many requests and has asked us to try again later", { retryAfterSeconds, causes: [{ reason: "UnexpectedServerResponse", message: "injected fault" }] }),
  internal: (message: string) => new ApiError(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] }),
  timeout: (message: string, cause: string) => new ApiError(504, "Timeout", message, { causes: [{ reason: cause, message }], retryAfterSeconds: 1 }),
};

/** The `Status` a successful delete answers when the object is gone at once. */
export function successStatus(details: StatusDetails): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details, code: 200 };
}
