# RFC 5229 section 4.1 modifiers on non-ASCII text, :length in characters,
# and match variables from a decoded subject.
require ["fileinto", "variables"];
if header :matches "subject" "*" {
  set :upper "u" "${1}";
  set :lower "l" "${1}";
  set :upperfirst "uf" "${1}";
  set :lowerfirst :upper "lfu" "${1}";
  set :length "n" "${1}";
  fileinto "U/${u}";
  fileinto "L/${l}";
  fileinto "F/${uf}/${lfu}";
  fileinto "N/${n}";
}
