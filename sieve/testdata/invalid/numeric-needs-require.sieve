require "relational";
if header :value "gt" :comparator "i;ascii-numeric" "x" "1" { keep; }
