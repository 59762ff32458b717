import type { Random } from '../../lib/random.ts';

/** The document a record rests on (R4): number, issuing authority and date. */
export interface BasisDocument {
  number: string;
  issuedBy: string;
  issuedOn: Date;
}

export const basisDocumentSchemaDefinition = { number: String, issuedBy: String, issuedOn: Date } as const;

/** A document number in the usual form, for example `京环罚〔2024〕118号`. */
export function documentNumber(random: Random, prefix: string, issuedOn: Date): string {
  return `${prefix}〔${issuedOn.getUTCFullYear()}〕${random.int(1, 9999)}号`;
}
