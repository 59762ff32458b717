/**
 * Stage: rate limits. The consumer's limits (its own where its policy entry sets them, the
 * gateway's defaults elsewhere) become the request's, and one request is taken from its rate and
 * its quota (gateway/rate-limits.ts, shared across gateway instances through Redis). The answer
 * to a counted request says what is left of each window in the IETF RateLimit header fields
 * (`RateLimit-Policy`, `RateLimit`, gateway/rate-limit-headers.ts); a refusal for its rate or
 * quota carries the same fields in its error (rate-limits.ts).
 */
import type { RateLimits } from '../rate-limits.ts';
import { rateLimitHeaders, type RateLimitState } from '../rate-limit-headers.ts';
import { limitsFor, type Limits } from '../operation-limits.ts';
import type { Stage } from './stage.ts';

export function rateLimitStage({
  rateLimits,
  defaultLimits,
}: {
  rateLimits: RateLimits;
  defaultLimits: Limits;
}): Stage {
  // Per HTTP request (the object the HTTP layer knows it by): what its count left of each window.
  const counted = new WeakMap<object, RateLimitState>();
  return {
    name: 'rate limits',
    async context(request) {
      if (!request.identity) throw new Error('rate limits run after purpose');
      request.limits = limitsFor(request.identity.consumer.limits, defaultLimits);
      counted.set(request.http.key, await rateLimits.consume(request.identity.consumer, request.limits));
    },
    httpHeaders(request) {
      const state = counted.get(request);
      return state ? rateLimitHeaders(state) : undefined;
    },
  };
}
