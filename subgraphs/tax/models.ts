import { Schema, type Connection, type Model } from 'mongoose';
import { basisDocumentSchemaDefinition, type BasisDocument } from '../runtime/basis-document.ts';

export interface ViolationCaseDocument {
  /** The case number. */
  _id: string;
  uscc: string;
  violationType: string;
  amountInvolved: number;
  penaltyAmount: number;
  decision: BasisDocument;
  decidedOn: Date;
  /** The consumer (tax authority) that recorded it; only it may write it again. */
  recordedBy?: string;
}

export interface CreditRatingDocument {
  _id: string;
  uscc: string;
  year: number;
  rating: string;
}

export interface TaxPaymentDocument {
  _id: string;
  uscc: string;
  year: number;
  amount: number;
}

export interface TaxModels {
  ViolationCase: Model<ViolationCaseDocument>;
  CreditRating: Model<CreditRatingDocument>;
  TaxPayment: Model<TaxPaymentDocument>;
}

const options = { versionKey: false } as const;

export function defineModels(connection: Connection): TaxModels {
  const violation = new Schema<ViolationCaseDocument>(
    {
      _id: String,
      uscc: { type: String, required: true },
      violationType: { type: String, required: true },
      amountInvolved: { type: Number, required: true },
      penaltyAmount: { type: Number, required: true },
      decision: { type: new Schema(basisDocumentSchemaDefinition, { _id: false }), required: true },
      decidedOn: { type: Date, required: true },
      recordedBy: { type: String },
    },
    options,
  );
  violation.index({ uscc: 1, decidedOn: -1 });

  const rating = new Schema<CreditRatingDocument>(
    {
      _id: String,
      uscc: { type: String, required: true },
      year: { type: Number, required: true },
      rating: { type: String, required: true },
    },
    options,
  );
  rating.index({ uscc: 1, year: -1 });

  const payment = new Schema<TaxPaymentDocument>(
    {
      _id: String,
      uscc: { type: String, required: true },
      year: { type: Number, required: true },
      amount: { type: Number, required: true },
    },
    options,
  );
  payment.index({ uscc: 1, year: -1 });

  return {
    ViolationCase: connection.model('ViolationCase', violation, 'violation_cases'),
    CreditRating: connection.model('CreditRating', rating, 'credit_ratings'),
    TaxPayment: connection.model('TaxPayment', payment, 'tax_payments'),
  };
}
