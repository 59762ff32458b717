/** Restoration settings (R5, R6): one list of what is never restored, defaults as shipped, and a clear error for a bad setting. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRestorationSettings } from '../subgraphs/runtime/restoration-settings.ts';

describe('restoration settings', () => {
  it('ship online fraud, illegal fund-raising and vaccines as never restored, and the minimum publication periods', () => {
    const settings = readRestorationSettings({});
    assert.deepEqual([...settings.nonRestorable].sort(), [
      'DRUG_VACCINE_SERIOUS_VIOLATION',
      'ILLEGAL_FUNDRAISING',
      'ONLINE_FRAUD',
      'VACCINE_QUALITY',
    ]);
    assert.equal(settings.listingMinimumDays, 365);
    assert.deepEqual(settings.penaltyMinimumDays, { GENERAL: 90, SERIOUS: 365 });
  });

  it('read one list of list types and penalty categories', () => {
    const settings = readRestorationSettings({
      CREDENCE_NON_RESTORABLE_CATEGORIES: ' ONLINE_FRAUD, POLLUTION ,ENVIRONMENTAL_SERIOUS_VIOLATION',
    });
    assert.deepEqual([...settings.nonRestorable], ['ONLINE_FRAUD', 'POLLUTION', 'ENVIRONMENTAL_SERIOUS_VIOLATION']);
  });

  it('refuse a name that is neither a list type nor a penalty category, naming it', () => {
    assert.throws(
      () => readRestorationSettings({ CREDENCE_NON_RESTORABLE_CATEGORIES: 'ONLINE_FRAUD,VACINE_QUALITY' }),
      /CREDENCE_NON_RESTORABLE_CATEGORIES names VACINE_QUALITY, neither a list type nor a penalty category/,
    );
  });

  it('refuse minimum days that are not whole numbers, and unknown severities', () => {
    assert.throws(
      () => readRestorationSettings({ CREDENCE_RESTORATION_MINIMUM_DAYS: '1y' }),
      /CREDENCE_RESTORATION_MINIMUM_DAYS must be a whole number of days, got "1y"/,
    );
    assert.throws(
      () => readRestorationSettings({ CREDENCE_PENALTY_RESTORATION_MINIMUM_DAYS: 'GENERAL=90,SERIOUS=a year' }),
      /must be a whole number of days, got "a year"/,
    );
    assert.throws(
      () => readRestorationSettings({ CREDENCE_PENALTY_RESTORATION_MINIMUM_DAYS: 'GENRAL=90' }),
      /"GENRAL=90" is not SEVERITY=days/,
    );
  });

  it('refuse the settings it replaced, so that a deployment does not believe them in force', () => {
    assert.throws(
      () => readRestorationSettings({ CREDENCE_NON_RESTORABLE_LIST_TYPES: 'ONLINE_FRAUD' }),
      /CREDENCE_NON_RESTORABLE_LIST_TYPES was replaced by CREDENCE_NON_RESTORABLE_CATEGORIES/,
    );
  });
});
