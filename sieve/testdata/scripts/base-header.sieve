# RFC 5228: header with :is, :contains, :matches; if/elsif/else; stop.
require "fileinto";
if header :contains "subject" "lunch" {
  fileinto "Social";
} elsif header :is "Subject" "SUNDAY DINNER" {
  fileinto "Family";
  stop;
} elsif header :matches "Subject" "*[go-nuts]*" {
  fileinto "Lists";
} elsif header :matches "subject" "Re: ?mailrules*" {
  fileinto "GitHub";
} else {
  keep;
}
if header :contains ["X-Spam-Flag", "Precedence"] ["yes", "list"] {
  fileinto "Filtered";
}
