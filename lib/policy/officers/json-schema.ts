/**
 * The JSON Schemas of policy files and policy test files. They serve two readers: editors (via
 * the `# yaml-language-server: $schema=...` line) validate and complete as the officer types, and
 * the loader checks the shape of every file with them before the semantic checks run.
 *
 * The checked-in copies in `policies/` are generated from these with the API schema's field names
 * as completion examples (`npm run policy -- schema`); a test fails when they are stale.
 */
import { MASK_NAMES } from '../decision/model.ts';
import { RECORD_TYPES } from '../decision/records.ts';
import { policyFields, policyTypes } from '../decision/api-schema.ts';
import type { GraphQLSchema } from 'graphql';

export type JsonSchema = { [key: string]: JsonValue };
type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A consumer id, group, field set or rule id: lower-case words joined by hyphens. */
export const NAME_PATTERN = '^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$';
/** A purpose: UPPER_SNAKE_CASE. */
export const PURPOSE_PATTERN = '^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$';
const IDENTIFIER = '[A-Za-z_][A-Za-z0-9_]*';
export const FIELD_PATTERN = `^(?:${IDENTIFIER}\\.(?:${IDENTIFIER}|\\*)|set:[a-z][a-z0-9]*(?:-[a-z0-9]+)*)$`;
export const FIELD_REFERENCE = `^${IDENTIFIER}\\.${IDENTIFIER}$`;
const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}(?:T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?:Z|[+-]\\d{2}:\\d{2}))?$';

function recordRuleProperties(): JsonSchema {
  const properties: JsonSchema = {};
  for (const typeName of Object.keys(RECORD_TYPES)) properties[typeName] = { $ref: '#/definitions/recordRule' };
  return properties;
}

/**
 * The schema of a policy file. Every section may appear in any file, so that a large policy can
 * be split (for example one rules file per consumer); the loader merges them.
 */
export function policyFileJsonSchema(fieldPatterns: readonly string[] = []): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Credence policy file',
    description:
      'Consumers, purposes, issuers, groups, field sets and rules. Anything not allowed by a rule is denied.',
    type: 'object',
    additionalProperties: false,
    properties: {
      purposes: {
        description: 'The purposes a consumer may declare with a request.',
        type: 'array',
        items: { $ref: '#/definitions/purpose' },
      },
      issuers: {
        description: 'Token issuers trusted to identify consumers with a JWT.',
        type: 'array',
        items: { $ref: '#/definitions/issuer' },
      },
      consumers: {
        description: 'Partner agencies that may query Credence.',
        type: 'array',
        items: { $ref: '#/definitions/consumer' },
      },
      groups: {
        description: 'Named sets of consumers, usable wherever a rule names consumers.',
        type: 'object',
        propertyNames: { $ref: '#/definitions/name' },
        additionalProperties: { type: 'array', minItems: 1, uniqueItems: true, items: { $ref: '#/definitions/name' } },
      },
      fieldSets: {
        description: 'Named lists of fields, used in rules as set:<name>.',
        type: 'object',
        propertyNames: { $ref: '#/definitions/name' },
        additionalProperties: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { $ref: '#/definitions/fieldPattern' },
        },
      },
      rules: {
        description:
          'Each rule allows, denies or masks fields, or sets which records are visible, for some consumers and purposes.',
        type: 'array',
        items: { $ref: '#/definitions/rule' },
      },
    },
    definitions: {
      limit: { type: 'integer', minimum: 1 },
      name: {
        title: 'name',
        description: 'Lower-case words joined by hyphens, for example court-enforcement.',
        type: 'string',
        pattern: NAME_PATTERN,
      },
      purposeName: {
        title: 'purpose',
        description: 'Upper-case words joined by underscores, for example PUBLIC_DISCLOSURE.',
        type: 'string',
        pattern: PURPOSE_PATTERN,
      },
      fieldPattern: {
        title: 'field pattern',
        description: 'Type.field, Type.* (every field of the type) or set:<field set name>.',
        type: 'string',
        pattern: FIELD_PATTERN,
        ...(fieldPatterns.length > 0 ? { examples: [...fieldPatterns] } : {}),
      },
      maskName: {
        title: 'mask',
        description:
          'ID_NUMBER keeps the first and last 4 characters, PHONE the first 3 and last 4, NAME the first character, REDACT nothing.',
        enum: [...MASK_NAMES],
      },
      date: {
        title: 'date',
        description:
          'A date (2026-01-31, read as 00:00 UTC) or a date and time with its offset (2026-01-31T08:00:00+08:00).',
        type: 'string',
        pattern: DATE_PATTERN,
      },
      purpose: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'description'],
        properties: {
          id: { $ref: '#/definitions/purposeName' },
          description: { type: 'string', minLength: 1 },
        },
      },
      issuer: {
        type: 'object',
        additionalProperties: false,
        required: ['issuer', 'audience'],
        properties: {
          issuer: {
            description: 'The iss claim of the tokens, for example https://idp.court.example.',
            type: 'string',
            minLength: 1,
          },
          audience: { description: 'The aud claim the tokens must carry for Credence.', type: 'string', minLength: 1 },
          jwksFile: {
            description: 'JSON Web Key Set file, relative to the policies folder.',
            type: 'string',
            minLength: 1,
          },
          jwksUri: {
            description: "Or the https URL of the issuer's JSON Web Key Set.",
            type: 'string',
            pattern: '^https://',
          },
          maxTokenLifetimeSeconds: {
            description:
              'The longest a token of this issuer may be valid (exp - iat), in seconds. Default 3600 (1 hour).',
            type: 'integer',
            minimum: 1,
            maximum: 86400,
          },
        },
        oneOf: [{ required: ['jwksFile'] }, { required: ['jwksUri'] }],
      },
      apiKey: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'sha256'],
        properties: {
          id: { description: 'A name for the key, shown in logs; never the key itself.', $ref: '#/definitions/name' },
          sha256: {
            title: 'SHA-256',
            description: 'Lower-case hex SHA-256 of the key, as printed by npm run policy -- new-key.',
            type: 'string',
            pattern: '^[0-9a-f]{64}$',
          },
          notBefore: { description: 'The key works from this date.', $ref: '#/definitions/date' },
          notAfter: { description: 'The key stops working after this date.', $ref: '#/definitions/date' },
          revoked: { description: 'true stops the key at once.', type: 'boolean' },
        },
      },
      jwtCredential: {
        type: 'object',
        additionalProperties: false,
        required: ['issuer', 'subject'],
        properties: {
          issuer: { description: 'An issuer listed under issuers.', type: 'string', minLength: 1 },
          subject: {
            description: 'The sub claim that identifies this consumer at that issuer.',
            type: 'string',
            minLength: 1,
          },
        },
      },
      consumer: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'purposes', 'mode'],
        properties: {
          id: { $ref: '#/definitions/name' },
          name: { description: "The agency's name, for people.", type: 'string', minLength: 1 },
          purposes: {
            description: 'Purposes this consumer may declare.',
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: { $ref: '#/definitions/purposeName' },
          },
          defaultPurpose: { description: 'Used when a request declares none.', $ref: '#/definitions/purposeName' },
          mode: {
            title: 'mode',
            description:
              'reject: an operation asking for a denied field is refused. filter: denied fields are answered null with a FORBIDDEN error.',
            enum: ['reject', 'filter'],
          },
          anonymous: {
            description: 'true: requests without credentials are this consumer (at most one consumer).',
            type: 'boolean',
          },
          limits: {
            description:
              'Limits of this consumer that differ from the gateway defaults (README: Limits). Each is a whole number.',
            type: 'object',
            additionalProperties: false,
            properties: {
              depth: { description: 'Deepest field nesting of one operation.', $ref: '#/definitions/limit' },
              aliases: { description: 'Aliased fields in one operation.', $ref: '#/definitions/limit' },
              rootFields: { description: 'Fields at the root of one operation.', $ref: '#/definitions/limit' },
              cost: {
                description:
                  'Estimated cost: each field counts once per item of the lists it sits in (first/limit, else the default list size).',
                $ref: '#/definitions/limit',
              },
              tokens: { description: 'Lexical tokens of one document.', $ref: '#/definitions/limit' },
              documentBytes: { description: 'Size of one document in bytes.', $ref: '#/definitions/limit' },
              requestsPerMinute: {
                description: 'Requests per minute, across all gateway instances (then HTTP 429 RATE_LIMITED).',
                $ref: '#/definitions/limit',
              },
              requestsPerDay: {
                description: 'Requests per day, across all gateway instances (then HTTP 429 QUOTA_EXCEEDED).',
                $ref: '#/definitions/limit',
              },
            },
          },
          competence: {
            description:
              'For a consumer that records decisions: the authorities it represents and the records within its competence. A write outside it is refused (OUTSIDE_COMPETENCE). Without it, the consumer records nothing.',
            type: 'object',
            additionalProperties: false,
            required: ['authorities', 'records'],
            properties: {
              authorities: {
                description:
                  "The authorities it acts for, as records name them (a penalty's authority, a court, the body listing an abnormal operation).",
                type: 'array',
                minItems: 1,
                uniqueItems: true,
                items: { type: 'string', minLength: 1 },
              },
              records: {
                description:
                  'Record types it may record: record type -> the kinds within its competence and whose basis documents it may record on.',
                type: 'object',
                minProperties: 1,
                additionalProperties: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    kinds: {
                      description:
                        'The kinds (category, list type, violation type, reason) it may record; required where the record type has kinds.',
                      type: 'array',
                      minItems: 1,
                      uniqueItems: true,
                      items: { type: 'string', minLength: 1 },
                    },
                    basisIssuers: {
                      description: 'Issuers of the basis documents it may record on; default: its own authorities.',
                      type: 'array',
                      minItems: 1,
                      uniqueItems: true,
                      items: { type: 'string', minLength: 1 },
                    },
                  },
                },
              },
            },
          },
          roles: {
            description:
              "officer: a privacy officer, who may sign in to the console (console/) with this consumer's credentials.",
            type: 'array',
            uniqueItems: true,
            items: { enum: ['officer'] },
          },
          persistedOperationsOnly: {
            description:
              'true: only operations registered for this consumer in operations/<consumer>.json are executed (npm run policy -- register-operations).',
            type: 'boolean',
          },
          credentials: {
            type: 'object',
            additionalProperties: false,
            properties: {
              apiKeys: { type: 'array', items: { $ref: '#/definitions/apiKey' } },
              jwt: { type: 'array', items: { $ref: '#/definitions/jwtCredential' } },
            },
          },
        },
      },
      recordRule: {
        type: 'object',
        additionalProperties: false,
        properties: {
          history: {
            description: 'Also records that ended, expired or were restored. Default false.',
            type: 'boolean',
          },
          disclosureWindow: {
            description: 'Only records inside their public disclosure window. Default false.',
            type: 'boolean',
          },
        },
      },
      rule: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'description', 'consumers'],
        properties: {
          id: { $ref: '#/definitions/name' },
          description: { description: 'Why this rule exists, for the next reader.', type: 'string', minLength: 1 },
          consumers: {
            description: 'Consumer ids and group names.',
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: { $ref: '#/definitions/name' },
          },
          purposes: {
            description: 'Leave out to apply to every purpose of those consumers.',
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: { $ref: '#/definitions/purposeName' },
          },
          allow: {
            description: 'Fields these consumers see.',
            type: 'array',
            minItems: 1,
            items: { $ref: '#/definitions/fieldPattern' },
          },
          deny: {
            description: 'Fields these consumers never see.',
            type: 'array',
            minItems: 1,
            items: { $ref: '#/definitions/fieldPattern' },
          },
          mask: {
            description: 'Fields these consumers see masked: field pattern -> mask.',
            type: 'object',
            minProperties: 1,
            propertyNames: { $ref: '#/definitions/fieldPattern' },
            additionalProperties: { $ref: '#/definitions/maskName' },
          },
          records: {
            description: 'Which records of a record type these consumers see.',
            type: 'object',
            minProperties: 1,
            properties: recordRuleProperties(),
            // Unknown record types pass here so that the semantic check can name the record types.
            additionalProperties: { $ref: '#/definitions/recordRule' },
          },
        },
        oneOf: [{ required: ['allow'] }, { required: ['deny'] }, { required: ['mask'] }, { required: ['records'] }],
      },
    },
  };
}

/** The schema of a policy test file (`policies/tests/*.yaml`). */
export function policyTestJsonSchema(fieldNames: readonly string[] = []): JsonSchema {
  const fieldReference: JsonSchema = {
    title: 'field',
    description: 'Type.field',
    type: 'string',
    pattern: FIELD_REFERENCE,
    ...(fieldNames.length > 0 ? { examples: [...fieldNames] } : {}),
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Credence policy test file',
    description: 'Cases: a consumer, a purpose and a query, with the fields expected visible, masked and denied.',
    type: 'object',
    additionalProperties: false,
    required: ['cases'],
    properties: {
      consumer: { description: 'Default consumer of the cases in this file.', type: 'string', pattern: NAME_PATTERN },
      purpose: { description: 'Default purpose of the cases in this file.', type: 'string', pattern: PURPOSE_PATTERN },
      cases: { type: 'array', minItems: 1, items: { $ref: '#/definitions/case' } },
    },
    definitions: {
      field: fieldReference,
      fieldList: { type: 'array', uniqueItems: true, items: { $ref: '#/definitions/field' } },
      case: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'query'],
        properties: {
          name: { type: 'string', minLength: 1 },
          consumer: { type: 'string', pattern: NAME_PATTERN },
          purpose: { type: 'string', pattern: PURPOSE_PATTERN },
          query: { description: 'A GraphQL operation.', type: 'string', minLength: 1 },
          operationName: { type: 'string' },
          refused: { description: 'true: the consumer may not use this purpose at all.', type: 'boolean' },
          visible: { description: 'Exactly the requested fields expected visible.', $ref: '#/definitions/fieldList' },
          masked: {
            description: 'Exactly the requested fields expected masked: a list, or field -> mask.',
            type: ['array', 'object'],
            uniqueItems: true,
            items: { $ref: '#/definitions/field' },
            propertyNames: { $ref: '#/definitions/field' },
            additionalProperties: { title: 'mask', enum: [...MASK_NAMES] },
          },
          denied: { description: 'Exactly the requested fields expected denied.', $ref: '#/definitions/fieldList' },
          records: {
            description: 'Expected record rules: record type -> { history, disclosureWindow }.',
            type: 'object',
            propertyNames: { title: 'record type', enum: Object.keys(RECORD_TYPES) },
            additionalProperties: {
              type: 'object',
              additionalProperties: false,
              properties: { history: { type: 'boolean' }, disclosureWindow: { type: 'boolean' } },
            },
          },
        },
      },
    },
  };
}

/** Completion examples from the API schema: every Type.field, and Type.* for every type. */
export function fieldPatternExamples(schema: GraphQLSchema): { patterns: string[]; fields: string[] } {
  const patterns: string[] = [];
  const fields: string[] = [];
  for (const type of policyTypes(schema)) {
    patterns.push(`${type.name}.*`);
    for (const field of policyFields(type)) {
      patterns.push(`${type.name}.${field.name}`);
      fields.push(`${type.name}.${field.name}`);
    }
  }
  return { patterns, fields };
}

/** The text of the checked-in schema files, generated from the API schema. */
export function generatedJsonSchemaFiles(schema: GraphQLSchema): {
  'policy.schema.json': string;
  'policy-test.schema.json': string;
} {
  const { patterns, fields } = fieldPatternExamples(schema);
  return {
    'policy.schema.json': `${JSON.stringify(policyFileJsonSchema(patterns), null, 2)}\n`,
    'policy-test.schema.json': `${JSON.stringify(policyTestJsonSchema(fields), null, 2)}\n`,
  };
}
