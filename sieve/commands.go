package sieve

// The command and test table: what each identifier takes and which
// capability (require) it needs. The checker reads it; the interpreter
// trusts what the checker let through.

// valueType is the type of a positional argument or of a tag's value.
type valueType int

const (
	valNone       valueType = iota
	valString               // one string
	valStringList           // a string or a string list
	valNumber
)

// String names the type for problem messages.
func (v valueType) String() string {
	switch v {
	case valString:
		return "a string"
	case valStringList:
		return "a string list"
	case valNumber:
		return "a number"
	}
	return "nothing"
}

// tagSpec describes one tagged argument.
type tagSpec struct {
	ext   string    // capability the tag needs; "" for none beyond the command's
	value valueType // what follows the tag; valNone for a flag-like tag
	group string    // tags of one group exclude each other ("match", "comparator"...)
}

// commandSpec describes a command or a test.
type commandSpec struct {
	ext  string // capability the identifier needs; "" for RFC 5228 base
	test bool   // a test, not a command
	tags map[string]tagSpec
	// pos are the positional arguments; when optFirst, the first may be left out.
	pos      []valueType
	optFirst bool
	tests    int  // 0: none; 1: exactly one; -1: a list of one or more
	block    bool // a block follows
	// sends marks actions that need mail to be sent, which mailrules does not do.
	sends bool
	// control marks require, if, elsif, else: handled by the checker itself.
	control bool
}

// Shared tag sets.
var (
	comparatorTag = map[string]tagSpec{"comparator": {value: valString, group: "comparator"}}
	matchTags     = map[string]tagSpec{
		"is":       {group: "match"},
		"contains": {group: "match"},
		"matches":  {group: "match"},
		"regex":    {ext: "regex", group: "match"},
		"value":    {ext: "relational", value: valString, group: "match"},
		"count":    {ext: "relational", value: valString, group: "match"},
	}
	addressPartTags = map[string]tagSpec{
		"all":       {group: "address-part"},
		"localpart": {group: "address-part"},
		"domain":    {group: "address-part"},
	}
	zoneTags = map[string]tagSpec{
		"zone":         {value: valString, group: "zone"},
		"originalzone": {group: "zone"},
	}
	// RFC 5260 section 6: which occurrence of a field a test looks at.
	indexTags = map[string]tagSpec{
		"index": {ext: "index", value: valNumber},
		"last":  {ext: "index"},
	}
	bodyTags = map[string]tagSpec{
		"raw":     {group: "transform"},
		"content": {value: valStringList, group: "transform"},
		"text":    {group: "transform"},
	}
)

func tags(sets ...map[string]tagSpec) map[string]tagSpec {
	out := map[string]tagSpec{}
	for _, s := range sets {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}

// commandSpecs is every identifier mailrules knows.
var commandSpecs = map[string]*commandSpec{
	// RFC 5228 section 3: control.
	"require": {control: true},
	"if":      {control: true, tests: 1, block: true},
	"elsif":   {control: true, tests: 1, block: true},
	"else":    {control: true, block: true},
	"stop":    {},
	// RFC 5228 section 4: actions.
	"keep":    {tags: map[string]tagSpec{"flags": {ext: "imap4flags", value: valStringList}}},
	"discard": {},
	"fileinto": {ext: "fileinto", pos: []valueType{valString}, tags: map[string]tagSpec{
		"copy":   {ext: "copy"},
		"create": {ext: "mailbox"},
		"flags":  {ext: "imap4flags", value: valStringList},
	}},
	"redirect": {pos: []valueType{valString}, sends: true, tags: map[string]tagSpec{"copy": {ext: "copy"}}},
	// RFC 5429: reject and ereject; RFC 5230: vacation; RFC 5435: notify.
	"reject":   {ext: "reject", pos: []valueType{valString}, sends: true},
	"ereject":  {ext: "ereject", pos: []valueType{valString}, sends: true},
	"vacation": {ext: "vacation", pos: []valueType{valString}, sends: true, tags: vacationTags},
	"notify": {ext: "enotify", pos: []valueType{valString}, sends: true, tags: map[string]tagSpec{
		"from": {value: valString}, "importance": {value: valString},
		"options": {value: valStringList}, "message": {value: valString},
	}},
	// RFC 5232: imap4flags.
	"setflag":    {ext: "imap4flags", pos: []valueType{valString, valStringList}, optFirst: true},
	"addflag":    {ext: "imap4flags", pos: []valueType{valString, valStringList}, optFirst: true},
	"removeflag": {ext: "imap4flags", pos: []valueType{valString, valStringList}, optFirst: true},
	// RFC 5229: variables.
	"set": {ext: "variables", pos: []valueType{valString, valString}, tags: map[string]tagSpec{
		"lower": {group: "case"}, "upper": {group: "case"},
		"lowerfirst": {group: "casefirst"}, "upperfirst": {group: "casefirst"},
		"quotewildcard": {group: "quote"}, "quoteregex": {ext: "regex", group: "quote"},
		"length": {group: "length"},
	}},
	// RFC 6609: include.
	"include": {ext: "include", pos: []valueType{valString}, tags: map[string]tagSpec{
		"personal": {group: "location"}, "global": {group: "location"},
		"once": {}, "optional": {},
	}},
	"return": {ext: "include"},
	"global": {ext: "include", pos: []valueType{valStringList}},

	// RFC 5228 section 5: tests.
	"address": {test: true, pos: []valueType{valStringList, valStringList},
		tags: tags(comparatorTag, matchTags, addressPartTags, indexTags)},
	"envelope": {ext: "envelope", test: true, pos: []valueType{valStringList, valStringList},
		tags: tags(comparatorTag, matchTags, addressPartTags)},
	"header": {test: true, pos: []valueType{valStringList, valStringList}, tags: tags(comparatorTag, matchTags, indexTags)},
	"exists": {test: true, pos: []valueType{valStringList}},
	"size": {test: true, pos: []valueType{valNumber}, tags: map[string]tagSpec{
		"over": {group: "size"}, "under": {group: "size"},
	}},
	"allof": {test: true, tests: -1},
	"anyof": {test: true, tests: -1},
	"not":   {test: true, tests: 1},
	"true":  {test: true},
	"false": {test: true},
	// RFC 5232.
	"hasflag": {ext: "imap4flags", test: true, pos: []valueType{valStringList, valStringList}, optFirst: true,
		tags: tags(comparatorTag, matchTags)},
	// RFC 5229 section 5.
	"string": {ext: "variables", test: true, pos: []valueType{valStringList, valStringList},
		tags: tags(comparatorTag, matchTags)},
	// RFC 5490.
	"mailboxexists": {ext: "mailbox", test: true, pos: []valueType{valStringList}},
	// RFC 5235.
	"spamtest": {ext: "spamtest", test: true, pos: []valueType{valString},
		tags: tags(comparatorTag, matchTags, map[string]tagSpec{"percent": {ext: "spamtestplus"}})},
	// RFC 5260.
	"date": {ext: "date", test: true, pos: []valueType{valString, valString, valStringList},
		tags: tags(comparatorTag, matchTags, zoneTags, indexTags)},
	"currentdate": {ext: "date", test: true, pos: []valueType{valString, valStringList},
		tags: tags(comparatorTag, matchTags, map[string]tagSpec{"zone": {value: valString, group: "zone"}})},
	// RFC 5173.
	"body": {ext: "body", test: true, pos: []valueType{valStringList}, tags: tags(comparatorTag, matchTags, bodyTags)},
}

var vacationTags = map[string]tagSpec{
	"days": {value: valNumber}, "seconds": {ext: "vacation-seconds", value: valNumber},
	"subject": {value: valString}, "from": {value: valString},
	"addresses": {value: valStringList}, "mime": {}, "handle": {value: valString},
}

// extensions are the capabilities require accepts. The value is false for
// those whose actions mailrules cannot carry out (they send mail).
var extensions = map[string]bool{
	"fileinto": true, "envelope": true, "encoded-character": true,
	"comparator-i;octet": true, "comparator-i;ascii-casemap": true, "comparator-i;ascii-numeric": true,
	"copy": true, "mailbox": true, "imap4flags": true, "variables": true, "regex": true,
	"relational": true, "spamtest": true, "spamtestplus": true, "date": true, "index": true,
	"body": true, "include": true,
	"reject": false, "ereject": false, "vacation": false, "vacation-seconds": false, "enotify": false,
}

// impliedBy lists capabilities that another one brings along
// (RFC 5235 section 3.2: spamtestplus includes spamtest).
var impliedBy = map[string][]string{"spamtestplus": {"spamtest"}}
