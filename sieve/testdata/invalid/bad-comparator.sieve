if header :comparator "i;nonsense" "subject" "x" { keep; }
