package classify_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailrules/mailrules/classify"
)

// A command classifier in exit-code mode: the program reads the message on
// its standard input and exits 0 for spam, 1 for ham, 2 when unsure.
func ExampleNew() {
	c, err := classify.New(classify.Config{
		Name:    "words",
		Type:    classify.TypeCommand,
		Command: []string{"sh", "-c", "if grep -qi 'lottery'; then exit 0; fi; exit 1"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, msg := range []string{
		"Subject: You won the lottery\r\n\r\nClaim your prize.\r\n",
		"Subject: Lunch?\r\n\r\nSee you at noon.\r\n",
	} {
		v, err := c.Classify(context.Background(), []byte(msg))
		if errors.Is(err, classify.ErrUnavailable) {
			fmt.Println("no verdict: leave the message and try again later")
			continue
		}
		fmt.Println(v.Action, v.Spam)
	}
	// Output:
	// spam true
	// ham false
}
