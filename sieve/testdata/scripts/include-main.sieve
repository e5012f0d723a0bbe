# RFC 6609: include, return and global variables.
require ["include", "variables", "fileinto"];
global "dest";
set "dest" "Included";
include "include-sub";
include :once "include-once";
include :once "include-once";
if string :is "${dest}" "Changed" { fileinto "After"; }
