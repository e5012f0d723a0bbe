# imap4flags details: duplicates, case, space-separated lists, removeflag of
# what is absent, hasflag :matches and :contains, keep :flags, the same
# mailbox filed twice with different flags.
require ["fileinto", "imap4flags", "variables"];
addflag "A b  c";
addflag ["a", "\\SEEN"];
removeflag "nothere";
if hasflag :matches "\\s*" { fileinto :flags "X" "Twice"; }
addflag "late";
fileinto "Twice";
if hasflag :contains "lat" { addflag "$sub"; }
if header :contains "subject" "dinner" { keep :flags "$Dinner"; }
set "f" "one two";
if hasflag "f" "two" { fileinto :flags "${f}" "FromVar"; }
setflag "";
