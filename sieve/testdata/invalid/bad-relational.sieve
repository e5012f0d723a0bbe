require "relational";
if header :value "bigger" "subject" "x" { keep; }
