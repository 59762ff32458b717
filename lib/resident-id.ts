/**
 * Resident identity card numbers (GB 11643-1999): 17 digits (division, birth date, sequence) and
 * a check character (ISO 7064 MOD 11-2). Courts name natural persons by this number, so a write
 * that carries one is checked like a USCC: a typo is refused, not stored.
 */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS = '10X98765432';

/** The check character of the first 17 digits. */
export function residentIdCheckCharacter(body: string): string {
  const sum = [...body].reduce((total, digit, i) => total + Number(digit) * (WEIGHTS[i] ?? 0), 0);
  return CHECK_CHARACTERS.charAt(sum % 11);
}

/** Why `value` is not a resident ID number, or undefined when it is one. */
export function residentIdFault(value: string): string | undefined {
  if (!/^\d{17}[\dX]$/.test(value)) return 'A resident ID number has 17 digits and a check character (a digit or X).';
  const birth = value.slice(6, 14);
  const date = new Date(`${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10).replaceAll('-', '') !== birth) {
    return 'Positions 7 to 14 of a resident ID number are a birth date (YYYYMMDD).';
  }
  if (residentIdCheckCharacter(value.slice(0, 17)) !== value.charAt(17))
    return 'The check character (position 18) does not match.';
  return undefined;
}
