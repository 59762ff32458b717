/**
 * The department source with its calls counted and timed (lib/observability/metrics-gateway.ts):
 * used instead of DepartmentSource when metrics are on, so that with metrics off nothing of this
 * runs. A call ends `ok` (the department answered), `refused` (it refused this request with a
 * code of its own) or `unavailable` (down, HTTP 5xx, timed out, or its circuit open).
 */
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../lib/error-registry.ts';
import type { GatewayMetrics } from '../lib/observability/metrics-gateway.ts';
import { DepartmentSource, type DepartmentSourceOptions } from './department-source.ts';

export class ObservedDepartmentSource extends DepartmentSource {
  private readonly metrics: GatewayMetrics;

  constructor(options: DepartmentSourceOptions, metrics: GatewayMetrics) {
    super(options);
    this.metrics = metrics;
  }

  override async process(options: GraphQLDataSourceProcessOptions): Promise<GatewayGraphQLResponse> {
    const started = performance.now();
    try {
      const response = await super.process(options);
      this.metrics.departmentCall(this.department, 'ok', started);
      return response;
    } catch (error) {
      const unavailable =
        !(error instanceof GraphQLError) || error.extensions.code === ErrorCode.DEPARTMENT_UNAVAILABLE;
      this.metrics.departmentCall(this.department, unavailable ? 'unavailable' : 'refused', started);
      throw error;
    }
  }
}
