import { describe, expect, it } from "vitest";
import { csvCell, csvLine } from "../../src/admin/users-csv.js";

describe("CSV cells", () => {
  it("quotes commas, quotes and line breaks per RFC 4180 and ends lines with CRLF", () => {
    expect(csvLine(["a,b", 'say "hi"', "two\nlines", null, true])).toBe('"a,b","say ""hi""","two\nlines",,true\r\n');
  });

  it("prefixes a cell a spreadsheet would run as a formula with a single quote", () => {
    expect(["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "plain"].map(csvCell)).toEqual(["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "plain"]);
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });
});
