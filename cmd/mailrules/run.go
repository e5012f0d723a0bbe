package main

import (
	"fmt"
	"os"
)

// cmdRun does one pass over every account.
func cmdRun(args []string) int {
	fmt.Fprintln(os.Stderr, "mailrules run: not yet implemented")
	return 1
}

// cmdWatch keeps watching every account for new mail.
func cmdWatch(args []string) int {
	fmt.Fprintln(os.Stderr, "mailrules watch: not yet implemented")
	return 1
}
