require "x-frobnicate";
