package main

import (
	"strings"
)

// helpText is what a command's --help says that the check needs: its
// subcommands (cobra's "Available Commands:") and its flags (the "Flags:"
// section, long names without dashes, in the order listed). Inherited
// flags ("Global Flags:") belong to the parent and are not included.
type helpText struct {
	Subcommands []string
	Flags       []string
}

// parseHelp reads cobra's help layout: a section starts with a line
// "Name:" at column 0 and holds the indented lines after it, up to the
// first blank or unindented line.
func parseHelp(text string) helpText {
	var h helpText
	section := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t\r")
		if line == "" || (line[0] != ' ' && line[0] != '\t') {
			section = ""
			if strings.HasSuffix(line, ":") {
				section = line
			}
			continue
		}
		switch section {
		case "Available Commands:":
			if fields := strings.Fields(line); len(fields) > 0 {
				h.Subcommands = append(h.Subcommands, fields[0])
			}
		case "Flags:":
			if name := flagName(line); name != "" {
				h.Flags = append(h.Flags, name)
			}
		}
	}
	return h
}

// flagName returns the long name of a pflag usage line ("  -c, --campaign
// string   campaign file"; "      --dry-run   …"; "      --mode[=auto]"), or
// "" for a line that does not start with a flag (a wrapped description).
func flagName(line string) string {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return ""
	}
	tok := fields[0]
	if len(tok) == 3 && tok[0] == '-' && tok[2] == ',' { // a shorthand: "-c,"
		if len(fields) < 2 {
			return ""
		}
		tok = fields[1]
	}
	if !strings.HasPrefix(tok, "--") || len(tok) == 2 {
		return ""
	}
	name := tok[2:]
	if i := strings.IndexAny(name, "[="); i >= 0 {
		name = name[:i]
	}
	return name
}
