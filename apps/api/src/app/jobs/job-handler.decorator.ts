import { DiscoveryService } from '@nestjs/core';

/**
 * Marks a provider as a job handler. Each feature module provides its own;
 * the jobs module finds them all at start-up (immich's JobRepository.setup),
 * so a new job type needs no entry in a central list.
 */
export const JobHandlerProvider = DiscoveryService.createDecorator<void>();
