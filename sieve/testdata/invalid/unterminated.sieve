if header "subject" "x" { keep;
