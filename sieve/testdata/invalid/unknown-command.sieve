require "fileinto";
fileinot "X";
