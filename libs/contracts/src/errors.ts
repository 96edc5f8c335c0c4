/**
 * Domain errors: what went wrong, in the domain's words. Libraries and services throw these; the API's one
 * exception filter maps each kind to an HTTP status (invalid 400, not-found 404, conflict 409, too-large 413,
 * unprocessable 422, unavailable 503). Any other Error is a bug of ours and answers 500 with a request id.
 * Messages name the problem and the field; they never hold server paths, file contents or connection strings.
 */
export type DomainErrorKind = 'invalid' | 'not-found' | 'conflict' | 'too-large' | 'unprocessable' | 'unavailable';

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The caller sent something malformed or out of range (400). */
export class InvalidInputError extends DomainError {
  readonly kind = 'invalid' as const;
}

/** The thing named does not exist (404). */
export class NotFoundError extends DomainError {
  readonly kind = 'not-found' as const;
}

/** The request conflicts with what exists or with a request in flight (409). */
export class ConflictError extends DomainError {
  readonly kind = 'conflict' as const;
}

/** The input exceeds a configured limit; the message names the limit (413). */
export class LimitExceededError extends DomainError {
  readonly kind = 'too-large' as const;
}

/** Well-formed input the domain cannot work with, e.g. a session whose events cannot be analysed (422). */
export class UnprocessableError extends DomainError {
  readonly kind = 'unprocessable' as const;
}

/** A dependency (the database, a device) is unreachable for now; retrying later may work (503). */
export class UnavailableError extends DomainError {
  readonly kind = 'unavailable' as const;
}
