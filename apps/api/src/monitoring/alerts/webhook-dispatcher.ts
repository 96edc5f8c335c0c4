import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { WEBHOOK_HEADERS } from '@ddnn/contracts';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { AlertNotifier } from './alert-notifier';
import { signWebhookBody } from './webhook-signature';
import { type ClaimedDelivery, WebhooksRepository } from './webhooks.repository';

/**
 * How often every node looks for due deliveries besides its own kicks: a node sends what it enqueues at once
 * (AlertNotifier), so the poll only finds retries, whose backoff starts at DDNN_WEBHOOK_RETRY_BASE_MS, and the
 * deliveries of a node that died (its lease runs out). Polling every second was one UPDATE a second on an idle node.
 */
export function webhookPollMs(retryBaseMs: number): number {
  return Math.min(5000, Math.max(1000, retryBaseMs));
}
const BATCH = 20;
/** Longest wait between two attempts, whatever the attempt number. */
const MAX_BACKOFF_MS = 15 * 60_000;

/** Wait before attempt `attempt + 1` after `attempt` failed: base, 2 x base, 4 x base... capped. */
export function backoffMs(baseMs: number, attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Sends the webhook outbox on every node: claims due deliveries (each claimed by one node), POSTs each body with
 * its HMAC signature, records every attempt, retries failures (non-2xx, refused, timed out) with backoff until
 * DDNN_WEBHOOK_MAX_ATTEMPTS. Redirects are not followed: a 3xx is a failed attempt.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly webhooks: WebhooksRepository,
    notifier: AlertNotifier,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    notifier.onEnqueued = () => this.kick();
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Sends what is due now (coalesced with a round in progress). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.round().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** One round until nothing is due; resolves when done (tests). */
  async drain(): Promise<void> {
    this.kick();
    while (this.running) await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.kick();
      this.schedule();
    }, webhookPollMs(this.config.DDNN_WEBHOOK_RETRY_BASE_MS));
    this.timer.unref();
  }

  private async round(): Promise<void> {
    try {
      for (;;) {
        const claimed = await this.webhooks.claimDue(BATCH, this.config.DDNN_WEBHOOK_TIMEOUT_MS * 3);
        if (claimed.length === 0) return;
        await Promise.all(claimed.map((d) => this.attempt(d)));
      }
    } catch (e) {
      this.logger.warn(`webhook deliveries: ${e instanceof Error ? e.message : e}`);
    }
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const t0 = performance.now();
    let httpStatus: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.DDNN_WEBHOOK_TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'ddnn-alerts',
          [WEBHOOK_HEADERS.signature]: signWebhookBody(d.secret, d.body),
          [WEBHOOK_HEADERS.delivery]: d.id,
          [WEBHOOK_HEADERS.event]: d.event,
        },
        body: d.body,
      });
      httpStatus = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (e) {
      error = describeFetchError(e);
    }
    const delivered = error === null;
    const retryInMs = delivered || d.attempt >= this.config.DDNN_WEBHOOK_MAX_ATTEMPTS ? null : backoffMs(this.config.DDNN_WEBHOOK_RETRY_BASE_MS, d.attempt);
    if (!delivered) {
      // The host only: a webhook URL may carry a credential in its path or query.
      this.logger.warn(`webhook delivery ${d.id} to ${safeHost(d.url)} failed (attempt ${d.attempt}): ${error}${retryInMs === null ? '; giving up' : ''}`);
    }
    await this.webhooks.recordAttempt(d, { httpStatus, error, durationMs: performance.now() - t0, delivered, retryInMs });
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}

/** A short reason without the URL (undici puts the cause, e.g. ECONNREFUSED, in `cause`). */
function describeFetchError(e: unknown): string {
  if (e instanceof Error && e.name === 'TimeoutError') return 'timed out';
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  return e instanceof Error ? e.message.slice(0, 200) : 'request failed';
}
