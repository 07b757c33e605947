package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestCRMFormats: CRM exports are recognised and the reason printed;
// --mapping reads an export no adapter knows.
func TestIngestCRMFormats(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "currency:\n  rates: {EUR: 1.1}\n")
	crm := filepath.Join("..", "..", "ingest", "crm", "testdata")
	code, out, errOut := cli(t, dir, "ingest", "--dataset", "sf", filepath.Join(crm, "same", "salesforce"))
	if code != 0 || !strings.Contains(out, "Salesforce Opportunity (API field names)") || !strings.Contains(out, "Salesforce CurrencyType (exchange rates) (lookup)") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	mapping := filepath.Join(crm, "mapping", "mapping.yaml")
	code, out, errOut = cli(t, dir, "ingest", "--dataset", "m", "--mapping", mapping, filepath.Join(crm, "mapping", "vorgaenge.csv"))
	if code != 0 || !strings.Contains(out, "mapping vertriebsdb table 1 (deals)") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut = cli(t, dir, "ingest", "--mapping", filepath.Join(dir, "none.yaml"), mapping); code != exitUsage {
		t.Fatalf("missing mapping file: exit %d, %s", code, errOut)
	}
}
