# The exact spamtest and spamtestplus :percent values, through match
# variables, for scores of every message.
require ["fileinto", "spamtestplus", "variables"];
if spamtest :matches "*" { fileinto "S/${1}"; }
if spamtest :percent :matches "*" { fileinto "P/${1}"; }
