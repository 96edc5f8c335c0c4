import { createHmac, timingSafeEqual } from 'node:crypto';
import { generateToken } from '../../auth/tokens';

/** A new webhook signing secret: 32 random bytes, shown to the operator once (the ddnn_ prefix keeps it out of logs: @ddnn/logging redacts it). */
export function newWebhookSecret(): string {
  return generateToken('ddnn_whsec');
}

/** The `X-DDNN-Signature-256` header value of a body: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does: recompute the signature of the raw body and compare in constant time. */
export function verifyWebhookSignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
