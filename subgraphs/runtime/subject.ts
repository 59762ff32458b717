/** The key every department shares: a credit subject is known by its Unified Social Credit Code. */
export interface SubjectReference {
  uscc: string;
}

/**
 * `Subject.__resolveReference` for the departments that extend the subject: any code the gateway
 * brings (it comes from the registry) is a subject here too, with or without records.
 */
export function resolveSubjectReference(reference: SubjectReference): SubjectReference {
  return { uscc: reference.uscc };
}
