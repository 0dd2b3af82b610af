/**
 * The two ways the bridge compares text that people type differently.
 *
 * - `fold`: SCIM's caseExact=false (RFC 7643 §2.2) for userName, displayName and email filters.
 *   SQLite's own lower() and NOCASE fold ASCII only; the database registers this function, so SQL
 *   filters and in-memory evaluation (PATCH value filters, tests) agree for every script.
 * - `matchingKey`: who a person is in an app. Adoption by email, the one-owner-per-account rule
 *   and duplicate detection all compare this key, so "Alice@Example.com", " alice@example.com"
 *   and "ａｌｉｃｅ@example.com" (full-width) are one person everywhere (docs/provisioning.md).
 */

export function fold(value: string): string {
  return value.toLowerCase();
}

/**
 * Trimmed, Unicode NFKC-normalised and case-folded (Unicode's NFKC_Casefold, approximated in
 * JavaScript: upper- then lower-casing folds ß to ss and final sigma to sigma as full case folding
 * does; the second NFKC recomposes what casing decomposed).
 */
export function matchingKey(value: string): string {
  return value.normalize("NFKC").trim().toUpperCase().toLowerCase().normalize("NFKC");
}
