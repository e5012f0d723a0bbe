# RFC 6609: :global and :personal locations, :optional, :once across both,
# and return from the top-level script.
require ["include", "fileinto", "variables"];
global "dest";
set "dest" "FromGlobal";
include :global :once "include-once";
include :personal :once "include-once";
include :global :optional "no-such-script";
include :global "include-sub";
if header :contains "subject" "lunch" { fileinto "Lunch"; return; }
fileinto "AfterReturn";
