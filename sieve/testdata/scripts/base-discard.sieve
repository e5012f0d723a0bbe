# discard cancels only the implicit keep; an explicit keep still stores.
if header :contains "subject" "newsletter" { discard; }
if header :contains "from" "mum" { discard; keep; }
if header :contains "subject" "ALERT" { keep; discard; }
