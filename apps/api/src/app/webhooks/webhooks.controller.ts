import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { Webhook, WebhookDelivery, WebhookWithSecret } from './webhook.model';
import { CreateWebhookInput } from './webhooks.dto';
import { WebhooksService } from './webhooks.service';

/** A team's webhooks: its viewers see them and their deliveries, its builders make and remove them. */
@ApiTags('webhooks')
@Controller('v1/webhooks')
@RequireRole('viewer')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** The secret is in this answer only. 400 WEBHOOK_TARGET_REFUSED for a URL off the allowlist; 409 QUOTA_EXCEEDED past DRYDOCK_TEAM_MAX_WEBHOOKS. */
  @Post()
  @RequireRole('builder')
  @ApiCreatedResponse({ type: WebhookWithSecret })
  @ApiBadRequestResponse({ description: 'a malformed body, or a URL that reaches a refused address (WEBHOOK_TARGET_REFUSED)' })
  @ApiConflictResponse({ description: 'the team has DRYDOCK_TEAM_MAX_WEBHOOKS webhooks already (QUOTA_EXCEEDED)' })
  @ApiOperation({ operationId: 'createWebhook' })
  create(@Body() body: CreateWebhookInput, @CurrentPrincipal() principal: Principal): Promise<WebhookWithSecret> {
    return this.webhooks.create(principal, body);
  }

  /** The token's team's webhooks (an admin's: every webhook), without secrets. */
  @Get()
  @ApiOkResponse({ type: [Webhook] })
  @ApiOperation({ operationId: 'listWebhooks' })
  list(@CurrentPrincipal() principal: Principal): Promise<Webhook[]> {
    return this.webhooks.list(principal);
  }

  @Delete(':id')
  @RequireRole('builder')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'no such webhook in the token\'s team (WEBHOOK_NOT_FOUND)' })
  @ApiOperation({ operationId: 'removeWebhook' })
  async remove(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.webhooks.remove(principal, id);
  }

  /** The webhook's latest deliveries, newest first, with every attempt. */
  @Get(':id/deliveries')
  @ApiOkResponse({ type: [WebhookDelivery] })
  @ApiNotFoundResponse({ description: 'no such webhook in the token\'s team (WEBHOOK_NOT_FOUND)' })
  @ApiOperation({ operationId: 'listWebhookDeliveries' })
  deliveries(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<WebhookDelivery[]> {
    return this.webhooks.deliveries(principal, id);
  }

  /** Sends a delivery that succeeded or failed again (same body, same `webhook-id`); 409 CONFLICT while it is still being attempted. */
  @Post(':id/deliveries/:deliveryId/redeliver')
  @RequireRole('builder')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: WebhookDelivery })
  @ApiNotFoundResponse({ description: 'WEBHOOK_NOT_FOUND or DELIVERY_NOT_FOUND' })
  @ApiConflictResponse({ description: 'the delivery is still PENDING (CONFLICT)' })
  @ApiOperation({ operationId: 'redeliverWebhookDelivery' })
  redeliver(@Param('id') id: string, @Param('deliveryId') deliveryId: string, @CurrentPrincipal() principal: Principal): Promise<WebhookDelivery> {
    return this.webhooks.redeliver(principal, id, deliveryId);
  }
}
