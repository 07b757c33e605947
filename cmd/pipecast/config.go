package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/models"
)

// Config is pipecast.yaml. Every field is optional: Default() is what an
// absent file means.
type Config struct {
	Dataset  string `yaml:"dataset"`
	Currency struct {
		Base  string             `yaml:"base"`
		Rates map[string]float64 `yaml:"rates"`
	} `yaml:"currency"`
	TimeZone string `yaml:"time_zone"`
	Dates    struct {
		Order        string `yaml:"order"`
		DecimalComma bool   `yaml:"decimal_comma"`
	} `yaml:"dates"`
	FiscalYearStartMonth int               `yaml:"fiscal_year_start_month"`
	Pipelines            []ingest.Pipeline `yaml:"pipelines"`
	Limits               struct {
		MaxFileBytes int64 `yaml:"max_file_bytes"`
		MaxRowBytes  int   `yaml:"max_row_bytes"`
		MaxColumns   int   `yaml:"max_columns"`
	} `yaml:"limits"`
	Database struct {
		MemoryLimit   string `yaml:"memory_limit"`
		TempDirectory string `yaml:"temp_directory"`
		Threads       int    `yaml:"threads"`
	} `yaml:"database"`
	Models models.Options `yaml:"models"`
	Check  Check          `yaml:"check"`
}

// Check holds the thresholds `pipecast check` gates CI with (flags
// override them). Accuracy thresholds apply to the latest backtest of the
// pipecast method; ECE and Brier to winprob's model on its time split.
type Check struct {
	MaxWAPE     float64 `yaml:"max_wape"`     // weighted absolute percentage error
	MaxBias     float64 `yaml:"max_bias"`     // |sum(forecast - actual) / sum(actual)|
	MinCoverage float64 `yaml:"min_coverage"` // share of periods inside P10-P90 (ideal 0.8)
	MaxECE      float64 `yaml:"max_ece"`      // expected calibration error of the win probabilities
	MaxBrier    float64 `yaml:"max_brier"`    // Brier score of the win probabilities
	Periods     int     `yaml:"periods"`      // the latest N backtest periods; 0: all
}

// DefaultCheck: thresholds a healthy pipeline passes; coverage over a
// dozen periods is a noisy estimate of 0.8, so its floor is low.
func DefaultCheck() Check {
	return Check{MaxWAPE: 0.35, MaxBias: 0.25, MinCoverage: 0.5, MaxECE: 0.1, MaxBrier: 0.25, Periods: 12}
}

//go:embed pipecast.default.yaml
var defaultConfigText string

// DefaultConfig is the configuration used without a file.
func DefaultConfig() Config {
	var c Config
	c.Dataset = "default"
	c.Currency.Base = "USD"
	c.TimeZone = "UTC"
	c.Dates.Order = string(ingest.DateAuto)
	c.FiscalYearStartMonth = 1
	c.Pipelines = ingest.DefaultPipelines()
	lim := ingest.DefaultLimits()
	c.Limits.MaxFileBytes, c.Limits.MaxRowBytes, c.Limits.MaxColumns = lim.MaxFileBytes, lim.MaxRowBytes, lim.MaxColumns
	c.Models = models.Default()
	c.Check = DefaultCheck()
	return c
}

// loadConfig reads path over the defaults. An empty path reads
// ./pipecast.yaml when it exists.
func loadConfig(path string) (Config, string, error) {
	c := DefaultConfig()
	explicit := path != ""
	if !explicit {
		path = "pipecast.yaml"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return c, "", nil
		}
		return c, "", usagef("config %s: %v", path, err)
	}
	// Pipelines in the file replace the defaults rather than merge by index.
	c.Pipelines = nil
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && err.Error() != "EOF" {
		return c, "", usagef("config %s: %v", path, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if len(c.Pipelines) == 0 {
		c.Pipelines = ingest.DefaultPipelines()
	}
	if err := c.validate(); err != nil {
		return c, "", usagef("config %s: %v", path, err)
	}
	c.Models.ApplyFiscalYearStart(c.FiscalYearStartMonth)
	return c, path, nil
}

func (c *Config) validate() error {
	switch ingest.DateOrder(c.Dates.Order) {
	case ingest.DateAuto, ingest.DateMDY, ingest.DateDMY:
	default:
		return fmt.Errorf("dates.order must be auto, mdy or dmy, not %q", c.Dates.Order)
	}
	if c.FiscalYearStartMonth < 1 || c.FiscalYearStartMonth > 12 {
		return fmt.Errorf("fiscal_year_start_month must be 1-12, not %d", c.FiscalYearStartMonth)
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return fmt.Errorf("time_zone %q: %v", c.TimeZone, err)
	}
	for k, v := range c.Currency.Rates {
		if v <= 0 {
			return fmt.Errorf("currency.rates.%s must be positive", k)
		}
	}
	if c.Models.Parallel < 1 {
		return fmt.Errorf("models.parallel must be at least 1, not %d", c.Models.Parallel)
	}
	return nil
}

// ingestOptions turns the configuration into ingest's options.
func (c *Config) ingestOptions() ingest.Options {
	loc, _ := time.LoadLocation(c.TimeZone)
	return ingest.Options{
		Dataset:      c.Dataset,
		Pipelines:    c.Pipelines,
		BaseCurrency: c.Currency.Base,
		Rates:        c.Currency.Rates,
		Values: ingest.ValueOptions{
			DateOrder:    ingest.DateOrder(c.Dates.Order),
			DecimalComma: c.Dates.DecimalComma,
			Location:     loc,
		},
		Limits: ingest.Limits{MaxFileBytes: c.Limits.MaxFileBytes, MaxRowBytes: c.Limits.MaxRowBytes, MaxColumns: c.Limits.MaxColumns},
	}
}

// defaultConfigFile is the commented file `pipecast config init` writes:
// the hand-written top part, then the models' defaults as YAML.
func defaultConfigFile() (string, error) {
	m, err := yaml.Marshal(struct {
		Models models.Options `yaml:"models"`
	}{models.Default()})
	if err != nil {
		return "", err
	}
	return defaultConfigText + "\n# Model settings (defaults shown; see docs/metrics/ for what each means).\n" + string(m), nil
}

func yamlEncode(w io.Writer, v any) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	defer enc.Close()
	return enc.Encode(v)
}
