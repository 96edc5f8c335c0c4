/** A problem with a dataset file; the message starts with the offending path so users can find it. */
export class DatasetFormatError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'DatasetFormatError';
  }
}
