import { Schema, type Connection, type Model } from 'mongoose';
import type { NaturalPerson } from '../runtime/seed-subjects.ts';

export interface SubjectDocument {
  /** The Unified Social Credit Code. */
  _id: string;
  name: string;
  entityType: string;
  status: string;
  address: string;
  registeredCapital: number;
  establishedOn: Date;
  legalRepresentative: NaturalPerson;
}

export interface AnnualReportDocument {
  _id: string;
  uscc: string;
  year: number;
  revenue: number;
  profit: number;
  totalAssets: number;
}

export interface AbnormalOperationDocument {
  _id: string;
  uscc: string;
  reason: string;
  listedOn: Date;
  listedBy: string;
  removedOn: Date | null;
  /** The legal ground on which the entry left the list (see AbnormalOperationRemovalReason). */
  removalReason?: string | null;
  /** The consumer (department) that recorded it; only it may remove it. */
  recordedBy?: string;
}

export interface RegistryModels {
  Subject: Model<SubjectDocument>;
  AnnualReport: Model<AnnualReportDocument>;
  AbnormalOperation: Model<AbnormalOperationDocument>;
}

const options = { versionKey: false } as const;

export function defineModels(connection: Connection): RegistryModels {
  const person = new Schema<NaturalPerson>({ name: String, idNumber: String, phone: String }, { _id: false });
  const subject = new Schema<SubjectDocument>(
    {
      _id: String,
      name: { type: String, required: true },
      entityType: { type: String, required: true },
      status: { type: String, required: true },
      address: { type: String, required: true },
      registeredCapital: { type: Number, required: true },
      establishedOn: { type: Date, required: true },
      legalRepresentative: { type: person, required: true },
    },
    options,
  );

  const annualReport = new Schema<AnnualReportDocument>(
    {
      _id: String,
      uscc: { type: String, required: true },
      year: { type: Number, required: true },
      revenue: Number,
      profit: Number,
      totalAssets: Number,
    },
    options,
  );
  annualReport.index({ uscc: 1, year: -1 });

  const abnormalOperation = new Schema<AbnormalOperationDocument>(
    {
      _id: String,
      uscc: { type: String, required: true },
      reason: { type: String, required: true },
      listedOn: { type: Date, required: true },
      listedBy: { type: String, required: true },
      removedOn: { type: Date, default: null },
      removalReason: { type: String, default: null },
      recordedBy: { type: String },
    },
    options,
  );
  abnormalOperation.index({ uscc: 1, listedOn: -1 });

  return {
    Subject: connection.model('Subject', subject, 'subjects'),
    AnnualReport: connection.model('AnnualReport', annualReport, 'annual_reports'),
    AbnormalOperation: connection.model('AbnormalOperation', abnormalOperation, 'abnormal_operations'),
  };
}
