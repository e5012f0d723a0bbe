if header :over "subject" "x" { keep; }
