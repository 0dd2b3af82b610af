/** Where a CLI command writes, one line at a time (stdout in production, an array in tests). */
export type Out = (line: string) => void;

/** Exit codes: 0 done, 1 refused (nothing matched, or the state did not allow it), 2 usage. */
export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;
