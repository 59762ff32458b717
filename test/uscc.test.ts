import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkUscc, completeUscc, organisationCheckDigit, usccCheckCharacter } from '../lib/uscc.ts';

describe('Unified Social Credit Code (GB 32100-2015)', () => {
  it('accepts the known-good example', () => {
    assert.equal(checkUscc('91110000600037341L'), null);
  });

  it('computes both check characters of the example', () => {
    assert.equal(organisationCheckDigit('60003734'), '1');
    assert.equal(usccCheckCharacter('91110000600037341'), 'L');
    assert.equal(completeUscc('9111000060003734'), '91110000600037341L');
  });

  it('names the position that fails', () => {
    const cases: [string, number][] = [
      ['91110000600037341', 0], // too short
      ['91110000600037341LL', 0], // too long
      ['O1110000600037341L', 1], // O is not in the character set
      ['B1110000600037341L', 1], // not a registration authority
      ['911A0000600037341L', 4], // division code must be digits
      ['91110000600037342L', 17], // organisation check digit
      ['91110000600037341K', 18], // check character
      ['91110000600037S41L', 15], // S is not in the character set
    ];
    for (const [code, position] of cases) {
      assert.equal(checkUscc(code)?.position, position, code);
    }
  });

  it('maps a check value of 31 to 0 and an organisation check of 10 to X', () => {
    // Search a few codes for each edge instead of hard-coding one: the rule is what is tested.
    let sawZero = false;
    let sawX = false;
    for (let n = 0; n < 5000 && !(sawZero && sawX); n++) {
      const organisation = String(10_000_000 + n * 7919).slice(0, 8);
      const code = completeUscc(`91110000${organisation}`);
      assert.equal(checkUscc(code), null, code);
      sawZero ||= code.endsWith('0');
      sawX ||= code.charAt(16) === 'X';
    }
    assert.ok(sawZero && sawX);
  });
});
