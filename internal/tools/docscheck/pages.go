package main

// pages names the docs page of every loadgen command, by its path under
// loadgen ("" is loadgen itself, "autoscale simulate" a sub-subcommand).
// Every flag a command's --help lists must appear as --name on its page. A
// command the binary has and this table lacks is an error, and so is an
// entry for a command the binary no longer has: the table is kept honest
// both ways.
var pages = map[string]string{
	"":                   "README.md",
	"autoscale":          "docs/autoscale.md",
	"autoscale simulate": "docs/autoscale.md",
	"compare":            "docs/reports.md",
	"forecast":           "docs/reports.md",
	"history":            "docs/history.md",
	"history prune":      "docs/history.md",
	"k6":                 "docs/k6.md",
	"preflight":          "docs/preflight.md",
	"report":             "docs/reports.md",
	"sample":             "docs/sample.md",
	"signoff":            "docs/signoff.md",
	"stress":             "docs/stress.md",
	"sweep":              "docs/sweep.md",
	"target":             "docs/target.md",
}

// pagesFile is where pages is declared, for problems that point at the table.
const pagesFile = "internal/tools/docscheck/pages.go"

// cobraCommands are the commands cobra adds to every command tree; they are
// cobra's, documented by cobra, and not walked.
var cobraCommands = map[string]bool{"help": true, "completion": true}

// ignoredFlags are the flags every command has.
var ignoredFlags = map[string]bool{"help": true, "version": true}

// maxReadmeLines is the front door's budget: the rest belongs in docs/.
const maxReadmeLines = 250
