/**
 * Stage: authentication. An API key or a bearer token, and the declared purpose, verified against
 * the policy in force (read once here, so that the whole request sees one version). The
 * authenticator (key index, token verifier) is built once per policy version; each request then
 * costs lookups. A refusal names no key and no check: the detail is for operators. A purpose the
 * authenticated consumer does not hold is refused here with the consumer known, so that the
 * access log records it.
 */
import type { Logger } from '../../lib/logger.ts';
import { createAuthenticator, type Authenticator } from '../../lib/identity/authenticate.ts';
import { IdentityError } from '../../lib/identity/identity-error.ts';
import type { PolicyRuntime } from '../../lib/policy/releases/policy-in-force.ts';
import type { Stage } from './stage.ts';

export interface AuthenticationDependencies {
  /** The policy in force, kept current by hot reload. */
  policies: Pick<PolicyRuntime, 'current'>;
  /** The folder the policy was read from (issuers' key files are relative to it). */
  policiesDir: string;
  log: Logger;
}

export function authenticationStage({ policies, policiesDir, log }: AuthenticationDependencies): Stage {
  let built: Authenticator | undefined;
  return {
    name: 'authentication',
    async context(request) {
      const policy = policies.current();
      request.policy = policy;
      if (built?.policyVersion !== policy.version) built = createAuthenticator({ policy, policiesDir });
      try {
        const authentication = await built.authenticate(request.http.headers);
        request.authenticated = { consumer: authentication.consumer, purpose: authentication.purpose };
        request.known = request.authenticated;
      } catch (error) {
        if (!(error instanceof IdentityError)) throw error;
        // The detail (which key, which check) is for operators; it never contains a credential.
        log.info({ code: error.code, detail: error.detail }, 'request refused by authentication');
        // A purpose refused to a consumer whose credentials held: known, so recorded like any refusal after authentication.
        if (error.authenticated)
          request.known = { consumer: { id: error.authenticated.consumer }, purpose: error.authenticated.purpose };
        throw error.toGraphQLError();
      }
    },
  };
}
