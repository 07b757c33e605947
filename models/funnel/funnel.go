package funnel

import (
	"context"
	"errors"
	"fmt"

	"github.com/pipecast/pipecast/models/stats"
	store "github.com/pipecast/pipecast/sql"
)

// Options are the funnel settings (pipecast.yaml, models.funnel).
type Options struct {
	// FiscalYearStartMonth is the month (1-12) the fiscal year starts in;
	// fiscal years are named by the calendar year they end in (start month 4:
	// April 2024 - March 2025 is FY2025). 0 means 1.
	FiscalYearStartMonth int `yaml:"fiscal_year_start_month"`
	// WilsonZ is the normal quantile of the conversion intervals; 0 means
	// 1.96 (95%).
	WilsonZ float64 `yaml:"wilson_z"`
}

// Default returns the settings used when the configuration says nothing.
func Default() Options { return Options{FiscalYearStartMonth: 1, WilsonZ: stats.Z95} }

// ErrOptions means the funnel settings are out of range.
var ErrOptions = errors.New("invalid funnel settings")

func (o Options) normalised() (Options, error) {
	if o.FiscalYearStartMonth == 0 {
		o.FiscalYearStartMonth = 1
	}
	if o.FiscalYearStartMonth < 1 || o.FiscalYearStartMonth > 12 {
		return o, fmt.Errorf("%w: fiscal_year_start_month is %d; use a month number 1-12", ErrOptions, o.FiscalYearStartMonth)
	}
	if o.WilsonZ == 0 {
		o.WilsonZ = stats.Z95
	}
	if o.WilsonZ < 0 {
		return o, fmt.Errorf("%w: wilson_z is %g; use a positive normal quantile such as 1.96", ErrOptions, o.WilsonZ)
	}
	return o, nil
}

// Tables lists the tables Run writes.
var Tables = []string{"funnel", "funnel_by", "data_quality", "stage_transitions", "stage_win_probability"}

// temporary tables Run builds on its connection and drops when done.
var temps = []string{"funnel_stage_rank", "funnel_steps", "funnel_deals", "funnel_counts", "funnel_wilson", "funnel_winprob"}

// Run computes the funnel tables as of r.AsOf. Everything is read through
// history_at($as_of) and deals created by the as-of date, in one pass over
// stage history (the temp table funnel_steps) that every table is then
// aggregated from.
func Run(ctx context.Context, r *store.Run, opt Options) (err error) {
	opt, err = opt.normalised()
	if err != nil {
		return err
	}
	defer func() {
		for _, t := range temps {
			if _, derr := r.ExecContext(context.Background(), "DROP TABLE IF EXISTS temp."+store.Quote(t)); derr != nil && err == nil {
				err = derr
			}
		}
	}()
	params := map[string]any{"fy_start": opt.FiscalYearStartMonth}
	if err := r.Exec(ctx, store.Query("funnel/prepare.sql"), params); err != nil {
		return fmt.Errorf("funnel: prepare: %w", err)
	}
	if err := writeWilson(ctx, r, opt.WilsonZ); err != nil {
		return err
	}
	for _, t := range []struct{ table, file string }{
		{"funnel", "funnel/funnel.sql"},
		{"funnel_by", "funnel/funnel_by.sql"},
		{"data_quality", "funnel/data_quality.sql"},
		{"stage_transitions", "funnel/transitions.sql"},
	} {
		if err := r.Replace(ctx, t.table, store.Query(t.file)); err != nil {
			return err
		}
	}
	if err := writeWinProbability(ctx, r); err != nil {
		return err
	}
	return r.Replace(ctx, "stage_win_probability", store.Query("funnel/win_probability.sql"))
}

// writeWilson computes the Wilson intervals of conv_next and conv_won for
// every row of funnel_counts into funnel_wilson.
func writeWilson(ctx context.Context, r *store.Run, z float64) error {
	fr, err := r.QueryFrame(ctx, "SELECT pipeline, dimension, segment, rnk, reached, advanced, won FROM funnel_counts")
	if err != nil {
		return fmt.Errorf("funnel: read counts: %w", err)
	}
	b := newRecord("pipeline:s", "dimension:s", "segment:s", "rnk:i", "conv_next_lo:f", "conv_next_hi:f", "conv_won_lo:f", "conv_won_hi:f")
	defer b.release()
	pipe, dim, seg := fr.String("pipeline"), fr.String("dimension"), fr.String("segment")
	rnk, reached, advanced, won := fr.Int("rnk"), fr.Int("reached"), fr.Int("advanced"), fr.Int("won")
	advNull := fr.Null("advanced")
	for i := 0; i < fr.N; i++ {
		b.str(0, pipe[i])
		b.str(1, dim[i])
		b.str(2, seg[i])
		b.int(3, rnk[i])
		n := int(reached[i])
		if n > 0 && !advNull[i] {
			lo, hi := stats.Wilson(int(advanced[i]), n, z)
			b.float(4, lo)
			b.float(5, hi)
		} else {
			b.null(4)
			b.null(5)
		}
		if n > 0 {
			lo, hi := stats.Wilson(int(won[i]), n, z)
			b.float(6, lo)
			b.float(7, hi)
		} else {
			b.null(6)
			b.null(7)
		}
	}
	rec := b.batch()
	defer rec.Release()
	return r.Append(ctx, "funnel_wilson", rec)
}
