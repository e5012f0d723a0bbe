# String lists, multi-line strings, escapes, comments, encoded characters
# (RFC 5228 section 2.4.2.4) and numbers with quantifiers.
require ["fileinto", "encoded-character", "variables"];
/* a bracketed comment
   over two lines */
if header :is "subject" text:
Lunch on Friday?
.
{
  fileinto "Multi\"line";
}
if header :contains "subject" "${hex:5B 67 6f}" { fileinto "Hex"; }
if header :contains "subject" "${unicode:e9}quipe" { fileinto "Unicode"; }
if size :under 1M { fileinto "Sized"; }
# Not well formed, so kept as written (RFC 5228 section 2.4.2.4).
if header :contains "subject" "${hex:}" { fileinto "Never-empty-hex"; }
if string :is "x${hex:}y${hex:041}z${unicode:}" "" { fileinto "Never"; }
