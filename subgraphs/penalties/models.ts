import { Schema, type Connection, type Model } from 'mongoose';

export interface PenaltyDocument {
  /** The issuing authority and the decision number (penaltyKey): numbers are unique per authority, not across authorities. */
  _id: string;
  decisionNumber: string;
  uscc: string;
  authority: string;
  legalBasis: string;
  violation: string;
  category: string;
  penaltyType: string;
  fineAmount: number;
  severity: string;
  decidedOn: Date;
  restoredOn: Date | null;
  /** The restoration decision: the subject's evidence, the regulator's reasons (not exposed; kept for accountability). */
  restoration?: { evidence: string; reason: string; decidedBy: string };
  /** The consumer (department) that recorded it; seed data has none. Only it may write the record again. */
  recordedBy?: string;
}

/** The key of a decision: its authority and its number, so that two authorities may use the same number. */
export function penaltyKey(authority: string, decisionNumber: string): string {
  return JSON.stringify([authority, decisionNumber]);
}

export interface PenaltiesModels {
  Penalty: Model<PenaltyDocument>;
}

export function defineModels(connection: Connection): PenaltiesModels {
  const penalty = new Schema<PenaltyDocument>(
    {
      _id: String,
      decisionNumber: { type: String, required: true },
      uscc: { type: String, required: true },
      authority: { type: String, required: true },
      legalBasis: { type: String, required: true },
      violation: { type: String, required: true },
      category: { type: String, required: true },
      penaltyType: { type: String, required: true },
      fineAmount: { type: Number, required: true },
      severity: { type: String, required: true },
      decidedOn: { type: Date, required: true },
      restoredOn: { type: Date, default: null },
      restoration: {
        type: new Schema({ evidence: String, reason: String, decidedBy: String }, { _id: false }),
        default: undefined,
      },
      recordedBy: { type: String },
    },
    { versionKey: false },
  );
  penalty.index({ uscc: 1, decidedOn: -1 });

  return { Penalty: connection.model('Penalty', penalty, 'penalties') };
}
