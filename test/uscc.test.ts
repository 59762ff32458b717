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

  // Codes from public registers (the National Enterprise Credit Information Publicity System),
  // each checked here by hand with GB 32100 and GB 11714, not with the code under test:
  //   organisation check (position 17): Σ code[i] x (3,7,9,10,5,8,4,2) over positions 9..16,
  //     11 − Σ mod 11, 10 → X, 11 → 0;
  //   check character (position 18): Σ value x (1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28)
  //     over positions 1..17, 31 − Σ mod 31 (31 → 0), as a character of 0-9 A-H J-N P-R T U W-Y.
  const PUBLISHED: [string, string][] = [
    // 60003734: Σ 109, mod 11 = 10 → 1 | Σ 538, mod 31 = 11, 31 − 11 = 20 → L
    ['91110000600037341L', 'the known-good example of GB 32100'],
    // 71526726: Σ 199, mod 11 = 1 → 10 → X | Σ 1782, mod 31 = 15, 31 − 15 = 16 → G
    ['9144030071526726XG', '腾讯科技（深圳）有限公司'],
    // 19220382: Σ 164, mod 11 = 10 → 1 | Σ 831, mod 31 = 25, 31 − 25 = 6 → 6
    ['914403001922038216', '华为技术有限公司'],
    // 79965505: Σ 300, mod 11 = 3 → 8 | Σ 1384, mod 31 = 20, 31 − 20 = 11 → B
    ['91330100799655058B', '阿里巴巴（中国）有限公司'],
    // 55138508: Σ 185, mod 11 = 9 → 2 | Σ 999, mod 31 = 7, 31 − 7 = 24 → Q
    ['91110108551385082Q', '小米科技有限责任公司'],
    // 71092546: Σ 196, mod 11 = 9 → 2 | Σ 746, mod 31 = 2, 31 − 2 = 29 → X
    ['91110000710925462X', '中国石油天然气股份有限公司'],
    // 80210043: Σ 74, mod 11 = 8 → 3 | Σ 485, mod 31 = 20, 31 − 20 = 11 → B
    ['91110000802100433B', '百度在线网络技术（北京）有限公司'],
  ];

  it('accepts codes published in public registers', () => {
    for (const [code, holder] of PUBLISHED) assert.equal(checkUscc(code), null, `${code} (${holder})`);
  });

  it('refuses hand-computed invalid codes at the position that fails', () => {
    const cases: [string, number][] = [
      // 71526726 → X holds; Σ 1782 → G, not H
      ['9144030071526726XH', 18],
      // 19220382 → 1 holds; Σ 831 → 6, not 7
      ['914403001922038217', 18],
      // 79965505: Σ 300 → 8, not 9
      ['91330100799655059B', 17],
      // positions 16 and 17 swapped: 55138502: Σ 173, mod 11 = 8 → 3, not 8
      ['91110108551385028Q', 17],
      // positions 16 and 17 swapped: 71092542: Σ 188, mod 11 = 1 → 10 → X, not 6
      ['91110000710925426X', 17],
    ];
    for (const [code, position] of cases) assert.equal(checkUscc(code)?.position, position, code);
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
