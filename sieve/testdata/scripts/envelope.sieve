# envelope, answered from Return-Path (from) and Delivered-To (to).
require ["fileinto", "envelope"];
if envelope :domain :is "from" "googlegroups.com" { fileinto "Env-groups"; }
if envelope :is "from" "" { fileinto "Bounce"; }
if envelope :localpart :matches "to" "bob+*" { fileinto "Detail"; }
if envelope :all :is "to" "alerts@example.com" { fileinto "Alerts"; }
