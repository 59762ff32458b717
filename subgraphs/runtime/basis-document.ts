import type { Random } from '../../lib/random.ts';
import { codedError, ErrorCode } from '../../lib/error-registry.ts';

/** The document a record rests on (R4): number, issuing authority and date. */
export interface BasisDocument {
  number: string;
  issuedBy: string;
  issuedOn: Date;
}

/** A basis document as a department submits it: every part optional, so that what is missing can be named. */
export interface BasisDocumentInput {
  number?: string | null;
  issuedBy?: string | null;
  issuedOn?: Date | null;
}

export const basisDocumentSchemaDefinition = { number: String, issuedBy: String, issuedOn: Date } as const;

const PARTS = ['number', 'issuedBy', 'issuedOn'] as const;

/**
 * R4: a record on a list rests on a law-enforcement document with its number, issuing authority
 * and date. Refuses with BASIS_DOCUMENT_REQUIRED naming the missing parts, or BAD_USER_INPUT for
 * a document dated in the future or after the record it supports (`recordedOn`).
 */
export function requireBasisDocument(
  input: BasisDocumentInput | null | undefined,
  field: string,
  recordedOn: Date,
  now: Date,
): BasisDocument {
  const missing = PARTS.filter((part) => {
    const value = input?.[part];
    return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
  });
  if (!input || missing.length > 0) {
    throw codedError(
      ErrorCode.BASIS_DOCUMENT_REQUIRED,
      `The record must rest on a law-enforcement document: its ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing (R4).`,
      {
        field,
        missing,
      },
    );
  }
  const basis = {
    number: String(input.number).trim(),
    issuedBy: String(input.issuedBy).trim(),
    issuedOn: input.issuedOn as Date,
  };
  if (basis.issuedOn > now)
    throw codedError(ErrorCode.BAD_USER_INPUT, 'A basis document cannot be dated in the future.', {
      field: `${field}.issuedOn`,
    });
  if (basis.issuedOn > recordedOn)
    throw codedError(ErrorCode.BAD_USER_INPUT, 'A record cannot precede its basis document.', {
      field: `${field}.issuedOn`,
    });
  return basis;
}

export function sameBasisDocument(a: BasisDocument, b: BasisDocument): boolean {
  return (
    a.number === b.number &&
    a.issuedBy === b.issuedBy &&
    new Date(a.issuedOn).getTime() === new Date(b.issuedOn).getTime()
  );
}

/** A document number in the usual form, for example `京环罚〔2024〕118号`. */
export function documentNumber(random: Random, prefix: string, issuedOn: Date): string {
  return `${prefix}〔${issuedOn.getUTCFullYear()}〕${random.int(1, 9999)}号`;
}
