/**
 * How a department records a decision: once, by the department that made it. One decision is one
 * document written by one insert, so it is stored whole or not at all (FerretDB 1.x needs no
 * transaction for that), and sending it again is harmless.
 */
import { GraphQLError } from 'graphql';
import type { Model } from 'mongoose';

/** A decision document: its number is its `_id`; `recordedBy` is the consumer (department) that recorded it. */
export interface RecordedDocument {
  _id: string;
  recordedBy?: string;
}

export interface RecordOnceOptions<T extends RecordedDocument> {
  model: Model<T>;
  document: T;
  /** Whether a stored document is the same decision as the one being recorded. */
  same: (stored: T, document: T) => boolean;
  /** The kind of number, for messages: "Decision", "Listing". */
  noun: string;
}

function refusal(stored: RecordedDocument, document: RecordedDocument, noun: string, same: boolean): GraphQLError | undefined {
  if (stored.recordedBy !== document.recordedBy) {
    return new GraphQLError(`${noun} ${document._id} was recorded by another department; only it may write it.`, {
      extensions: { code: 'NOT_RECORD_OWNER', number: document._id },
    });
  }
  if (!same) {
    return new GraphQLError(`${noun} number ${document._id} is already recorded with different content.`, {
      extensions: { code: 'DUPLICATE_DECISION_NUMBER', number: document._id },
    });
  }
  return undefined;
}

/** Records `document`, or returns the stored one when it is the same decision by the same department. */
export async function recordOnce<T extends RecordedDocument>({ model, document, same, noun }: RecordOnceOptions<T>): Promise<T> {
  const settle = (stored: T): T => {
    const error = refusal(stored, document, noun, same(stored, document));
    if (error) throw error;
    return stored;
  };
  const stored = await model.findById(document._id).lean<T>();
  if (stored) return settle(stored);
  try {
    await model.create(document);
  } catch (error) {
    // Two submissions of one number at once: the one that lost reads what the other stored.
    if ((error as { code?: number }).code !== 11000) throw error;
    const winner = await model.findById(document._id).lean<T>();
    if (!winner) throw error;
    return settle(winner);
  }
  return document;
}

export function badInput(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field } });
}
