/**
 * The console reads the access log as the officer, through the gateway's GraphQL API: the same
 * interface any consumer uses, under the policy in force, and every search is itself recorded in
 * the access log under the officer's name.
 */
import type { OfficerCredential } from './sessions.ts';

export interface AccessRecordRow {
  id: string;
  at: string;
  consumer: string;
  purpose: string;
  outcome: string;
  requestId: string;
  operationName: string | null;
  subjects: string[];
  fields: { type: string; fields: string[] }[];
  deniedFields: string[];
  maskedFields: string[];
}

export interface AccessLogSearch {
  requestId?: string;
  consumer?: string;
  purpose?: string;
  subject?: string;
  field?: string;
  outcome?: string;
  from?: string;
  to?: string;
}

export type GatewayResult<T> = { ok: true; data: T } | { ok: false; code: string; message: string };

const RECORD_FIELDS =
  'id at consumer purpose outcome requestId operationName subjects fields { type fields } deniedFields maskedFields';

export const AUDIT_PURPOSE = 'AUDIT';

export function createGatewayClient(graphqlUrl: string) {
  async function query<T>(
    credential: OfficerCredential,
    text: string,
    variables: Record<string, unknown>,
  ): Promise<GatewayResult<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-credence-purpose': AUDIT_PURPOSE };
    if (credential.kind === 'api-key') headers['x-api-key'] = credential.apiKey;
    else headers.authorization = `Bearer ${credential.token}`;
    let body: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: text, variables }),
        signal: AbortSignal.timeout(15_000),
      });
      body = (await response.json()) as typeof body;
    } catch (error) {
      return { ok: false, code: 'GATEWAY_UNREACHABLE', message: (error as Error).message };
    }
    const error = body.errors?.[0];
    if (error || !body.data)
      return {
        ok: false,
        code: error?.extensions?.code ?? 'NO_DATA',
        message: error?.message ?? 'the gateway answered no data',
      };
    return { ok: true, data: body.data };
  }

  return {
    searchAccessLog(credential: OfficerCredential, filter: AccessLogSearch, first: number, after?: string) {
      const cleaned = Object.fromEntries(
        Object.entries(filter).filter(([, value]) => value !== undefined && value !== ''),
      );
      return query<{ accessLog: { records: AccessRecordRow[]; endCursor: string | null; hasNextPage: boolean } }>(
        credential,
        `query ConsoleSearch($filter: AccessLogFilter, $first: Int, $after: String) { accessLog(filter: $filter, first: $first, after: $after) { records { ${RECORD_FIELDS} } endCursor hasNextPage } }`,
        { filter: cleaned, first, ...(after ? { after } : {}) },
      );
    },
    subjectReport(credential: OfficerCredential, uscc: string) {
      return query<{
        subjectAccessReport: { uscc: string; consumers: string[]; truncated: boolean; accesses: AccessRecordRow[] };
      }>(
        credential,
        `query ConsoleSubjectReport($uscc: ID!) { subjectAccessReport(uscc: $uscc) { uscc consumers truncated accesses { ${RECORD_FIELDS} } } }`,
        { uscc },
      );
    },
  };
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;
