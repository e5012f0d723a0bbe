# Capability names are case-sensitive (Pigeonhole agrees).
require "FileInto";
