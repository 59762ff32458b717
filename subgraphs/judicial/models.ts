import { Schema, type Connection, type Model } from 'mongoose';
import { basisDocumentSchemaDefinition, type BasisDocument } from '../runtime/basis-document.ts';
import type { NaturalPerson } from '../runtime/seed-subjects.ts';

export interface DebtorEntryDocument {
  /** The case number. */
  _id: string;
  uscc: string;
  court: string;
  basis: BasisDocument;
  obligation: string;
  performanceStatus: string;
  responsiblePerson: NaturalPerson;
  listedOn: Date;
  removedOn: Date | null;
  /** The legal ground on which the entry left the list (see DebtorRemovalReason). */
  removalReason?: string | null;
  /** The consumer (court) that recorded it; only it may remove it. */
  recordedBy?: string;
}

export interface ConsumptionRestrictionDocument {
  _id: string;
  uscc: string;
  court: string;
  issuedOn: Date;
  liftedOn: Date | null;
}

export interface JudicialModels {
  DebtorEntry: Model<DebtorEntryDocument>;
  ConsumptionRestriction: Model<ConsumptionRestrictionDocument>;
}

const options = { versionKey: false } as const;

export function defineModels(connection: Connection): JudicialModels {
  const debtorEntry = new Schema<DebtorEntryDocument>(
    {
      _id: String,
      uscc: { type: String, required: true },
      court: { type: String, required: true },
      basis: { type: new Schema(basisDocumentSchemaDefinition, { _id: false }), required: true },
      obligation: { type: String, required: true },
      performanceStatus: { type: String, required: true },
      responsiblePerson: {
        type: new Schema({ name: String, idNumber: String, phone: String }, { _id: false }),
        required: true,
      },
      listedOn: { type: Date, required: true },
      removedOn: { type: Date, default: null },
      removalReason: { type: String, default: null },
      recordedBy: { type: String },
    },
    options,
  );
  debtorEntry.index({ uscc: 1, listedOn: -1 });

  const restriction = new Schema<ConsumptionRestrictionDocument>(
    {
      _id: String,
      uscc: { type: String, required: true },
      court: { type: String, required: true },
      issuedOn: { type: Date, required: true },
      liftedOn: { type: Date, default: null },
    },
    options,
  );
  restriction.index({ uscc: 1, issuedOn: -1 });

  return {
    DebtorEntry: connection.model('DebtorEntry', debtorEntry, 'debtor_entries'),
    ConsumptionRestriction: connection.model('ConsumptionRestriction', restriction, 'consumption_restrictions'),
  };
}
