import { randomUUID } from 'node:crypto';
import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { CreateWebhookRequest, WebhookCreatedResponse, WebhookDeliveryListResponse, WebhookView } from '@ddnn/contracts';
import { newWebhookSecret } from './webhook-signature';
import { WebhooksRepository } from './webhooks.repository';

/** An http(s) URL without credentials (they would sit in the table and in every log of the receiver). */
export function webhookUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'url must use http or https';
  if (url.username || url.password) return 'url must not hold a user or password (the body is signed instead)';
  return null;
}

/** Webhooks: registered with a generated signing secret shown once, listed without it, and their deliveries. */
@Injectable()
export class WebhooksService {
  constructor(private readonly repo: WebhooksRepository) {}

  async create(req: CreateWebhookRequest): Promise<WebhookCreatedResponse> {
    const problem = webhookUrlProblem(req.url);
    if (problem) throw new BadRequestException(problem);
    const secret = newWebhookSecret();
    const view = await this.repo.insert({ id: randomUUID(), name: req.name, url: req.url, secret, minSeverity: req.minSeverity ?? 'warning', enabled: req.enabled ?? true });
    return { ...view, secret };
  }

  list(): Promise<WebhookView[]> {
    return this.repo.list();
  }

  async get(id: string): Promise<WebhookView> {
    const w = await this.repo.get(id);
    if (!w) throw new NotFoundException(`webhook ${id} not found`);
    return w;
  }

  async update(id: string, patch: Partial<CreateWebhookRequest>): Promise<WebhookView> {
    if (patch.url !== undefined) {
      const problem = webhookUrlProblem(patch.url);
      if (problem) throw new BadRequestException(problem);
    }
    const w = await this.repo.update(id, patch);
    if (!w) throw new NotFoundException(`webhook ${id} not found`);
    return w;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.delete(id))) throw new NotFoundException(`webhook ${id} not found`);
  }

  async deliveries(id: string, limit = 50, offset = 0): Promise<WebhookDeliveryListResponse> {
    await this.get(id);
    return this.repo.deliveries(id, limit, offset);
  }
}
