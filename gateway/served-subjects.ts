/**
 * The gateway's side of the subjects departments report (lib/access-log/served-subjects.ts): read
 * from each department's answer on the connection the gateway itself made, added to the
 * request's set (never removed from it), and taken out of the answer. The access log records the
 * union with the codes of the arguments and of the answer (access-log.ts).
 */
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { SERVED_SUBJECTS_EXTENSION, servedSubjectsIn } from '../lib/access-log/served-subjects.ts';
import type { GatewayContext } from './stages/stage.ts';

export function collectServedSubjects(context: unknown, response: GatewayGraphQLResponse): void {
  const { extensions } = response;
  if (!extensions || !(SERVED_SUBJECTS_EXTENSION in extensions)) return;
  const served = (context as Partial<GatewayContext> | undefined)?.access?.servedSubjects;
  if (served) for (const code of servedSubjectsIn(extensions)) served.add(code);
  delete (extensions as Record<string, unknown>)[SERVED_SUBJECTS_EXTENSION];
}
