import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { WebhookCreatedResponse, WebhookDeliveryListResponse, WebhookView } from '@ddnn/contracts';
import { RequireAccess } from '../../auth/access.decorator';
import { PageQueryDto } from '../../common/page-query.dto';
import { CreateWebhookDto, UpdateWebhookDto } from './alert.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('alerts')
@RequireAccess('operator')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Register a webhook',
    description:
      'Alert notifications (firing, resolved) are POSTed as JSON with `X-DDNN-Signature-256: sha256=<HMAC-SHA256 of the body>`, keyed with the secret returned here once.',
  })
  create(@Body() body: CreateWebhookDto): Promise<WebhookCreatedResponse> {
    return this.webhooks.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List webhooks', description: 'Never their secrets.' })
  list(): Promise<WebhookView[]> {
    return this.webhooks.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a webhook', description: 'Its name, URL, minimum severity and whether it is enabled (never its secret).' })
  @ApiNotFoundResponse()
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<WebhookView> {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update a webhook', description: 'Change its name, URL, minimum severity or enabled flag; the secret stays (register a new webhook to rotate it).' })
  @ApiNotFoundResponse()
  update(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: UpdateWebhookDto): Promise<WebhookView> {
    return this.webhooks.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook', description: 'Its deliveries and their attempts go with it.' })
  @ApiNotFoundResponse()
  delete(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    return this.webhooks.delete(id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: "A webhook's deliveries", description: 'Newest first, each with every attempt (HTTP status or error, duration).' })
  @ApiNotFoundResponse()
  deliveries(@Param('id', new ParseUUIDPipe()) id: string, @Query() q: PageQueryDto): Promise<WebhookDeliveryListResponse> {
    return this.webhooks.deliveries(id, q.limit, q.offset);
  }
}
