/**
 * Stage: transport refusals. What the HTTP layer refuses before any GraphQL runs: a body over the
 * size limit and a malformed body (Fastify's error handler, lib/http.ts), a batch of operations
 * (one request, one operation, one set of limits), all answered as coded GraphQL errors with the
 * security headers every answer carries. The gateway's Fastify app is configured with this
 * stage's `preHandler`; lib/http.ts holds the handlers, shared with the departments.
 */
import { refuseBatches } from '../../lib/http.ts';
import type { Stage } from './stage.ts';

export const transportRefusals: Stage & { preHandler: typeof refuseBatches } = {
  name: 'transport refusals',
  preHandler: refuseBatches,
};
