import { Schema, type Connection, type Model } from 'mongoose';
import { basisDocumentSchemaDefinition, type BasisDocument } from '../runtime/basis-document.ts';

export interface ListingDocument {
  _id: string;
  uscc: string;
  listType: string;
  reason: string;
  basis: BasisDocument;
  listedBy: string;
  listedOn: Date;
  removedOn: Date | null;
  /** The legal ground on which the listing left the list (see ListingRemovalReason). */
  removalReason?: string | null;
  restoredOn: Date | null;
  /** The consumer (department) that recorded it; seed data has none. Only it may write the listing again. */
  recordedBy?: string;
}

export interface RestorationApplicationDocument {
  _id: string;
  uscc: string;
  listingId: string;
  appliedOn: Date;
  status: string;
  decidedOn: Date | null;
  decisionReason: string | null;
  /** The applicant's evidence of corrected behaviour; not exposed to consumers. */
  evidence?: string;
  /** The consumers that applied and decided (for accountability). */
  appliedBy?: string;
  decidedBy?: string;
}

export interface CreditModels {
  Listing: Model<ListingDocument>;
  RestorationApplication: Model<RestorationApplicationDocument>;
}

const options = { versionKey: false } as const;

export function defineModels(connection: Connection): CreditModels {
  const listing = new Schema<ListingDocument>(
    {
      _id: String,
      uscc: { type: String, required: true },
      listType: { type: String, required: true },
      reason: { type: String, required: true },
      basis: { type: new Schema(basisDocumentSchemaDefinition, { _id: false }), required: true },
      listedBy: { type: String, required: true },
      listedOn: { type: Date, required: true },
      removedOn: { type: Date, default: null },
      removalReason: { type: String, default: null },
      restoredOn: { type: Date, default: null },
      recordedBy: { type: String },
    },
    options,
  );
  listing.index({ uscc: 1, listedOn: -1 });

  const application = new Schema<RestorationApplicationDocument>(
    {
      _id: String,
      uscc: { type: String, required: true },
      listingId: { type: String, required: true },
      appliedOn: { type: Date, required: true },
      status: { type: String, required: true },
      decidedOn: { type: Date, default: null },
      decisionReason: { type: String, default: null },
      evidence: { type: String },
      appliedBy: { type: String },
      decidedBy: { type: String },
    },
    options,
  );
  application.index({ uscc: 1, appliedOn: -1 });
  application.index({ status: 1, appliedOn: 1 });

  return {
    Listing: connection.model('Listing', listing, 'listings'),
    RestorationApplication: connection.model('RestorationApplication', application, 'restoration_applications'),
  };
}
