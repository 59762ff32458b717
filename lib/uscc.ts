/**
 * Unified Social Credit Code (GB 32100-2015): validation and construction.
 *
 * Every code that enters Credence (arguments, writes, seed data) goes through `checkUscc`, so a
 * partner agency learns exactly which position of its code is wrong.
 */

/** The 31 characters a code may use: digits and capitals without I, O, S, V, Z. */
export const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** Registration authorities of position 1 (1 establishment office, 5 civil affairs, 9 market regulation, Y other, ...). */
const REGISTRATION_AUTHORITIES = '123456789ANY';

/** Weights of positions 1..17: 3^(i-1) mod 31. */
const CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** Weights of the organisation code (GB 11714) that fills positions 9..16. */
const ORGANISATION_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

export interface UsccFault {
  /** 1-based position of the first character that fails; 0 when the length is wrong. */
  position: number;
  message: string;
}

function charValue(char: string): number {
  return USCC_CHARSET.indexOf(char);
}

/** The mod-11 check digit of an 8-character organisation code (position 17 of a USCC). */
export function organisationCheckDigit(organisationCode: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    // GB 11714 values digits as themselves and letters A..Z as 10..35.
    sum += parseInt(organisationCode.charAt(i), 36) * (ORGANISATION_WEIGHTS[i] ?? 0);
  }
  const check = 11 - (sum % 11);
  if (check === 10) return 'X';
  if (check === 11) return '0';
  return String(check);
}

/** The check character (position 18) for the first 17 characters of a code. */
export function usccCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += charValue(first17.charAt(i)) * (CODE_WEIGHTS[i] ?? 0);
  const check = 31 - (sum % 31);
  return USCC_CHARSET.charAt(check === 31 ? 0 : check);
}

/** Returns the first fault of a candidate code, or null when it is a valid USCC. */
export function checkUscc(code: string): UsccFault | null {
  if (code.length !== 18) {
    return { position: 0, message: `A Unified Social Credit Code has 18 characters; this one has ${code.length}.` };
  }
  for (let i = 0; i < 18; i++) {
    const char = code.charAt(i);
    if (charValue(char) < 0) {
      return {
        position: i + 1,
        message: `Position ${i + 1} holds "${char}", which is not allowed (allowed: ${USCC_CHARSET}).`,
      };
    }
  }
  if (!REGISTRATION_AUTHORITIES.includes(code.charAt(0))) {
    return {
      position: 1,
      message: `Position 1 holds "${code.charAt(0)}", which is not a registration authority code.`,
    };
  }
  if (!/^\d{6}$/.test(code.slice(2, 8))) {
    return {
      position: firstNonDigit(code, 2, 8) + 1,
      message: 'Positions 3-8 must be a numeric administrative division code.',
    };
  }
  const organisationCheck = organisationCheckDigit(code.slice(8, 16));
  if (code.charAt(16) !== organisationCheck) {
    return {
      position: 17,
      message: `Position 17 holds "${code.charAt(16)}" but the organisation code check digit is "${organisationCheck}".`,
    };
  }
  const check = usccCheckCharacter(code.slice(0, 17));
  if (code.charAt(17) !== check) {
    return { position: 18, message: `Position 18 holds "${code.charAt(17)}" but the check character is "${check}".` };
  }
  return null;
}

function firstNonDigit(code: string, from: number, to: number): number {
  for (let i = from; i < to; i++) if (!/\d/.test(code.charAt(i))) return i;
  return from;
}

/** Completes 16 characters (authority, type, division, organisation code) into a valid 18-character code. */
export function completeUscc(first16: string): string {
  const first17 = first16 + organisationCheckDigit(first16.slice(8, 16));
  return first17 + usccCheckCharacter(first17);
}
