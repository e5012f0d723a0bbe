# Every date part (RFC 5260 section 4.2) of the Date field, captured through
# match variables, in its original zone and converted to two others.
require ["fileinto", "date", "variables"];
if date :originalzone :matches "date" "iso8601" "*" { set "a" "${1}"; }
if date :originalzone :matches "date" "std11" "*" { set "b" "${1}"; }
if date :originalzone :matches "date" "julian" "*" { set "c" "${1}"; }
if date :originalzone :matches "date" "weekday" "*" { set "d" "${1}"; }
if date :originalzone :matches "date" "zone" "*" { set "e" "${1}"; }
if date :originalzone :matches "date" "time" "*" { set "f" "${1}"; }
fileinto "O/${a}/${b}/${c}/${d}/${e}/${f}";
if date :zone "+0930" :matches "date" "iso8601" "*" { fileinto "Z/${1}"; }
if date :zone "-1100" :matches "date" "date" "*" {
  set "g" "${1}";
  if date :zone "-1100" :matches "date" "hour" "*" { set "h" "${1}"; }
  if date :zone "-1100" :matches "date" "minute" "*" { set "i" "${1}"; }
  if date :zone "-1100" :matches "date" "second" "*" { set "j" "${1}"; }
  if date :zone "-1100" :matches "date" "month" "*" { set "k" "${1}"; }
  if date :zone "-1100" :matches "date" "day" "*" { set "l" "${1}"; }
  fileinto "M/${g}/${h}${i}${j}/${k}${l}";
}
if currentdate :matches "year" "20*" { fileinto "CurrentYear"; }
