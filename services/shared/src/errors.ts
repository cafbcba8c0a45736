/** An error with the HTTP status to answer, for outcomes the caller must act on (401, 404, 409, 503, …). */
export class HttpProblem extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}
