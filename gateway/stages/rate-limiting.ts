/**
 * Stage: rate limits. The consumer's limits (its own where its policy entry sets them, the
 * gateway's defaults elsewhere) become the request's, and one request is taken from its rate and
 * its quota (gateway/rate-limits.ts, shared across gateway instances through Redis).
 */
import type { RateLimits } from '../rate-limits.ts';
import { limitsFor, type Limits } from '../operation-limits.ts';
import type { Stage } from './stage.ts';

export function rateLimitStage({ rateLimits, defaultLimits }: { rateLimits: RateLimits; defaultLimits: Limits }): Stage {
  return {
    name: 'rate limits',
    async context(request) {
      if (!request.identity) throw new Error('rate limits run after purpose');
      request.limits = limitsFor(request.identity.consumer.limits, defaultLimits);
      await rateLimits.consume(request.identity.consumer, request.limits);
    },
  };
}
