# Header names, keys and mailboxes built from variables; regex captures
# of alternatives that did not take part. (Not :quoteregex: Pigeonhole 0.5
# lacks it; TestRun covers ours.)
require ["fileinto", "variables", "regex"];
set "h" "X-Label";
if header :is "${h}" "ops" { fileinto "Var-header"; }
set "q" "\\[go-nuts\\]";
if header :regex "subject" "^${q}" { fileinto "QuotedRegex"; }
if header :regex "subject" "^(Re: )?(\\[([^]]+)\\])?(.*)$" { fileinto "R/${1}|${3}|${4}"; }
set "key" "*example.org";
if address :matches "from" "${key}" { fileinto "KeyFromVar"; }
