import type { MaskName } from './model.ts';

/**
 * How each named mask hides a value. Masks keep just enough for a person to recognise a record
 * (as public disclosure practice does: `4101**********1234`), never enough to contact or
 * identify someone.
 */
const MASKS: Record<MaskName, (value: string) => string> = {
  /** Resident ID number: the first 4 and last 4 characters. */
  ID_NUMBER: (value) =>
    value.length <= 8 ? '*'.repeat(value.length) : value.slice(0, 4) + '*'.repeat(value.length - 8) + value.slice(-4),
  /** Phone: the first 3 and last 4 digits. */
  PHONE: (value) =>
    value.length <= 7 ? '*'.repeat(value.length) : value.slice(0, 3) + '*'.repeat(value.length - 7) + value.slice(-4),
  /** A person's name: the surname only. */
  NAME: (value) => (value.length <= 1 ? '*' : value.charAt(0) + '*'.repeat(value.length - 1)),
  /** Nothing of the value. */
  REDACT: () => '***',
};

export function applyMask(mask: MaskName, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  // Policies put masks on String and ID fields only; anything else is hidden whole.
  if (typeof value !== 'string' && typeof value !== 'number') return MASKS.REDACT('');
  return MASKS[mask](String(value));
}
