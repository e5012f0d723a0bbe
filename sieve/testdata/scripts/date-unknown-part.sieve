# An unknown date part only warns (as in Pigeonhole) and the test is false.
require ["date", "fileinto"];
if currentdate "fortnight" "1" { fileinto "Never"; }
if not date "date" "fortnight" "1" { fileinto "Always"; }
