import os from 'node:os';
import { HttpStatus } from '@nestjs/common';
import { type DomainErrorKind, printableText } from '@ddnn/contracts';

/** The HTTP status of each kind of domain error. */
export const STATUS_OF_KIND: Record<DomainErrorKind, number> = {
  invalid: HttpStatus.BAD_REQUEST,
  'not-found': HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  'too-large': HttpStatus.PAYLOAD_TOO_LARGE,
  unprocessable: HttpStatus.UNPROCESSABLE_ENTITY,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** The reason phrase of a status. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'Server Error' : 'Error');
}

/**
 * Removes what a client must never see from a message: server folders (longest first, so a data folder
 * inside the repository reads as <data>), connection strings and internal host:port pairs.
 */
export class MessageScrubber {
  private readonly folders: [string, string][];

  constructor(folders: Record<string, string>) {
    const all: Record<string, string> = { ...folders, [os.tmpdir()]: '<tmp>', [os.homedir()]: '<home>' };
    this.folders = Object.entries(all)
      .filter(([dir]) => dir.length > 1)
      .sort((a, b) => b[0].length - a[0].length);
  }

  scrub(message: string): string {
    // A message may echo what a client sent (a file name, an archive entry): one printable line, no bidi overrides.
    let out = printableText(message);
    for (const [dir, label] of this.folders) out = out.split(dir).join(label);
    return out
      .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, '<url>')
      .replace(/\b(?:\d{1,3}\.){3}\d{1,3}:\d{2,5}\b/g, '<address>')
      .replace(/\blocalhost:\d{2,5}\b/g, '<address>')
      .slice(0, 2000);
  }
}
