/** The body of every error response. A 500 holds only `statusCode`, `message` and `requestId`. */
export interface ErrorResponse {
  statusCode: number;
  /** What is wrong, naming the field or limit; never a server path, a stack or a connection string. */
  message: string;
  /** The HTTP reason phrase (Bad Request, Not Found, ...); absent on a 500. */
  error?: string;
  /** Present on 500s: quote it when reporting the problem; the server log has the details under it. */
  requestId?: string;
}
