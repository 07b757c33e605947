package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

var paramRef = regexp.MustCompile(`\$([a-z_][a-z0-9_]*)`)

// ExecScript runs the statements of a .sql file one by one (split at a ';'
// that ends a line), binding to each only the named parameters ($name) it
// uses. A statement's error names its position in the script.
func (c *Conn) ExecScript(ctx context.Context, script string, params map[string]any) error {
	for i, stmt := range SplitStatements(script) {
		var args []any
		seen := map[string]bool{}
		for _, m := range paramRef.FindAllStringSubmatch(stmt, -1) {
			name := m[1]
			if seen[name] {
				continue
			}
			seen[name] = true
			v, ok := params[name]
			if !ok {
				return fmt.Errorf("statement %d uses $%s, which has no value", i+1, name)
			}
			args = append(args, sql.Named(name, v))
		}
		if _, err := c.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("statement %d (%s): %w", i+1, summary(stmt), err)
		}
	}
	return nil
}

// SplitStatements splits a script at lines ending in ';', dropping comment
// lines and empty statements.
func SplitStatements(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			if s := strings.TrimSpace(cur.String()); s != ";" {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

func summary(stmt string) string {
	f := strings.Fields(stmt)
	if len(f) > 6 {
		f = f[:6]
	}
	return strings.Join(f, " ")
}

// ParamNames lists the $names a script uses, for tests.
func ParamNames(script string) []string {
	set := map[string]bool{}
	for _, m := range paramRef.FindAllStringSubmatch(script, -1) {
		set[m[1]] = true
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
