/**
 * `Subject.applicableMeasures` (R2, R3): the measures of the national list that a subject's
 * listings trigger now. Computed at query time from the listings the request already loads, so a
 * listing that ends, expires or is restored lifts its measures at once, with no job to run.
 */
import type { RecordRule } from '../../lib/policy/decision/model.ts';
import { isRecordVisible, type DisclosureWindows } from '../../lib/policy/decision/records.ts';
import { measuresForListType } from '../../lib/policy/reference/measures.ts';
import type { Measure, MeasuresList } from '../../lib/policy/reference/measures.ts';
import type { ListingDocument } from './models.ts';

/** `ApplicableMeasure` of the schema: the measure and the listing that triggers it. */
export interface ApplicableMeasureValue<Listing> {
  measure: Measure;
  listing: Listing;
}

const LISTING = 'SeriousDishonestyListing';

/** Only listings in force trigger measures: not ended (removed, expired), not restored. */
const IN_FORCE: RecordRule = { ruleId: null, history: false, disclosureWindow: false };

/**
 * The measures the listings trigger at `now`, newest listing first, in list order within a
 * listing. `consumerRule` is the consumer's record rule for listings: a consumer never learns of a
 * listing through its measures that it could not see in `seriousDishonestyListings` (a portal
 * limited to public display, for example).
 */
export function applicableMeasures<
  Listing extends Pick<ListingDocument, 'listType' | 'listedOn' | 'removedOn' | 'restoredOn'>,
>(
  listings: readonly Listing[],
  list: MeasuresList,
  now: Date,
  consumerRule: RecordRule = IN_FORCE,
  windows?: DisclosureWindows,
): ApplicableMeasureValue<Listing>[] {
  return listings
    .filter(
      (listing) =>
        isRecordVisible(LISTING, listing, IN_FORCE, now) &&
        isRecordVisible(LISTING, listing, consumerRule, now, windows),
    )
    .flatMap((listing) => measuresForListType(list, listing.listType).map((measure) => ({ measure, listing })));
}
