# RFC 5228: exists, size, allof, anyof, not, true, false; discard.
require "fileinto";
if not exists "Subject" { discard; stop; }
if size :over 1K { fileinto "Large"; }
if size :under 400 { fileinto "Small"; }
if allof (exists "List-Id", exists "Precedence") { fileinto "Bulk"; }
if anyof (false, exists ["X-Priority", "X-Nothing"]) { keep; }
if allof (true, not false) { fileinto "Always"; }
