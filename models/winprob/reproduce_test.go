package winprob

import (
	"context"
	"database/sql"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/pipecast/pipecast/models/stats"
)

// TestScoresReproducibleFromStoredModel rebuilds every deal's p_win from
// the winprob_model table and the deal's own history only (no in-memory
// model): each feature from its stored encoding or fill, standardised with
// the stored mean and scale, the stored coefficients, the stored
// calibration map and clip. It fails when an input of the score is not
// stored.
func TestScoresReproducibleFromStoredModel(t *testing.T) {
	sd := simulate(3000, 5)
	db := openDB(t)
	sd.load(t, db)
	opt := Default()
	opt.MinWon, opt.MinLost = 100, 100
	res := runModel(t, db, sd.asOf, opt)
	if res.final.fz == nil {
		t.Fatalf("model %s: %s", res.final.kind, res.final.note)
	}
	dt := res.dt
	ctx := context.Background()

	type coef struct{ c, mean, scale float64 }
	coefs := map[string]coef{}
	enc, fill, calib := map[string]float64{}, map[string]float64{}, map[string]float64{}
	var intercept float64
	var knots [][2]float64
	rows, err := db.QueryContext(ctx, `SELECT kind, feature, coefficient, mean, scale, x, y FROM winprob_model`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind, feature string
		var c, m, s, x, y sql.NullFloat64
		if err := rows.Scan(&kind, &feature, &c, &m, &s, &x, &y); err != nil {
			t.Fatal(err)
		}
		switch kind {
		case "intercept":
			intercept = c.Float64
		case "coefficient":
			coefs[feature] = coef{c.Float64, m.Float64, s.Float64}
		case "encoding":
			enc[feature] = y.Float64
		case "fill":
			fill[feature] = y.Float64
		case "calibration":
			if feature == "isotonic" {
				knots = append(knots, [2]float64{x.Float64, y.Float64})
			} else {
				calib[feature] = c.Float64
			}
		}
	}
	rows.Close()
	sort.Slice(knots, func(a, b int) bool {
		if knots[a][0] != knots[b][0] {
			return knots[a][0] < knots[b][0]
		}
		return knots[a][1] < knots[b][1]
	})
	iso := &stats.Isotonic{}
	for _, k := range knots {
		iso.X, iso.Y = append(iso.X, k[0]), append(iso.Y, k[1])
	}
	if len(coefs) != len(res.final.fz.names) {
		t.Fatalf("%d stored coefficients, model has %d", len(coefs), len(res.final.fz.names))
	}

	logit := func(p float64) float64 { return math.Log(p / (1 - p)) }
	clampL := func(p float64) float64 { return logit(math.Min(math.Max(p, 1e-3), 1-1e-3)) }
	prior := logit(math.Min(math.Max(enc["prior"], 1e-4), 1-1e-4)) // stored as the rate
	lookup := func(key string, dflt float64) float64 {
		if v, ok := enc[key]; ok {
			return v
		}
		return dflt
	}
	b2 := func(b bool) float64 { return map[bool]float64{true: 1}[b] }
	index := map[string]int{}
	for i := 0; i < dt.n; i++ {
		index[dt.id[i]] = i
	}

	scores, err := db.QueryContext(ctx, `SELECT deal_id, p_win FROM deal_scores`)
	if err != nil {
		t.Fatal(err)
	}
	defer scores.Close()
	n := 0
	for scores.Next() {
		var id string
		var want float64
		if err := scores.Scan(&id, &want); err != nil {
			t.Fatal(err)
		}
		i := index[id]
		s, ok := dt.features(i, ms(sd.asOf))
		if !ok {
			t.Fatalf("%s: no snapshot at the as-of date", id)
		}
		stage := stageName(dt, s.sid)
		days := math.Log1p(s.daysInStage)
		eta := intercept
		for name, c := range coefs {
			var x float64
			switch {
			case name == "log1p_days_in_stage":
				x = days
			case name == "log1p_deal_age_days":
				x = math.Log1p(s.ageDays)
			case name == "log1p_amount":
				x = fill[name]
				if s.amountOK {
					x = math.Log1p(math.Max(s.amount, 0))
				}
			case name == "amount_missing":
				x = b2(!s.amountOK)
			case name == "owner_win_logit":
				x = lookup("owner="+dt.owner[i], prior)
			case name == "team_win_logit":
				x = lookup("team="+dt.team[i], prior)
			case name == "log1p_stage_changes":
				x = math.Log1p(float64(s.changes))
			case name == "log1p_backward_moves":
				x = math.Log1p(float64(s.backward))
			case name == "log1p_close_date_pushes":
				x = math.Log1p(float64(s.pushes))
			case name == "log1p_amount_changes":
				x = math.Log1p(float64(s.amtChanges))
			case name == "log1p_employees":
				x = fill[name]
				if dt.employeesOK[i] {
					x = math.Log1p(math.Max(dt.employees[i], 0))
				}
			case name == "employees_missing":
				x = b2(!dt.employeesOK[i])
			case name == "existing_customer":
				x = b2(s.customer)
			case name == "close_date_passed":
				x = b2(s.ecdOK && s.overdue)
			case name == "close_date_missing":
				x = b2(!s.ecdOK)
			case name == "team_stage_win_logit":
				x = clampL(enc["prior"])
				if r, ok := enc["stage_rate="+stage]; ok {
					x = clampL(r)
				}
				x = lookup("team_stage="+dt.team[i]+"|"+stage, x)
			case name == "rep_logit_adjusted":
				x = fill[name]
				if s.probOK {
					x = logit(math.Min(math.Max(s.prob, 0.01), 0.99)) - lookup("rep_shift="+dt.owner[i], enc["rep_shift"])
				}
			case name == "rep_missing":
				x = b2(!s.probOK)
			case strings.HasPrefix(name, "stage="):
				x = b2(name == "stage="+stage)
			case strings.HasPrefix(name, "log1p_days_in_stage|stage="):
				x = days * b2(name == "log1p_days_in_stage|stage="+stage)
			case strings.HasPrefix(name, "log1p_days_in_stage^2|stage="):
				x = days * days * b2(name == "log1p_days_in_stage^2|stage="+stage)
			default:
				level, ok := map[string]string{"deal_type": dt.dealType[i], "pipeline": dt.pipeline[i],
					"industry": dt.industry[i], "region": dt.region[i], "source": dt.source[i]}[strings.SplitN(name, "=", 2)[0]]
				if !ok {
					t.Fatalf("stored coefficient %q: no rule to compute it", name)
				}
				x = b2(name[strings.Index(name, "=")+1:] == level)
			}
			eta += c.c * (x - c.mean) / c.scale
		}
		var p float64
		switch res.final.kind {
		case kindPlatt:
			p = 1 / (1 + math.Exp(-(calib["platt_a"]*eta + calib["platt_b"])))
		case kindIsotonic:
			p = iso.Predict(eta)
		}
		p = math.Min(math.Max(p, calib["clip"]), 1-calib["clip"])
		if math.Abs(p-want) > 1e-9 {
			t.Errorf("%s: p_win %.12f, rebuilt from winprob_model %.12f", id, want, p)
		}
		n++
	}
	if n < 100 {
		t.Fatalf("only %d scores", n)
	}
	t.Logf("%d scores (%s) rebuilt from winprob_model", n, res.final.kind)
}
