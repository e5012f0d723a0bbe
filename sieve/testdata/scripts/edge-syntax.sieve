# Syntax details: identifiers and tags in any case, dot-stuffed multi-line
# strings with encoded characters, the string test with :count, :contains
# with an empty key, numbers with quantifiers.
REQUIRE ["fileinto", "variables", "encoded-character", "relational", "comparator-i;ascii-numeric"];
IF Header :CONTAINS "SUBJECT" "lunch" { FileInto "Upper"; }
if header :is "subject" text: # a comment after text:
..Friday
.
{ fileinto "Never"; }
set "dots" text:
..leading dot and ${hex:41}
.
;
if string :contains "${dots}" ".leading dot and A" { fileinto "Dots"; }
if string :count "eq" :comparator "i;ascii-numeric" ["a", "", "b"] "2" { fileinto "Count2"; }
if size :under 2k { fileinto "Under2k"; }
if string :is "" "" { fileinto "EmptyIsEmpty"; }
