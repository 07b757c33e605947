package winprob

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pipecast/pipecast/models/stats"
)

// The numeric features, in column order; one-hot columns follow them.
const (
	fDaysInStage = iota
	fAge
	fAmount
	fAmountMissing
	fOwner
	fTeam
	fChanges
	fBackward
	fPushes
	fAmtChanges
	fEmployees
	fEmployeesMissing
	fCustomer
	fOverdue
	fCloseMissing
	fTeamStage
	fRep
	fRepMissing
	nNumeric
)

var numericNames = [nNumeric]string{
	"log1p_days_in_stage", "log1p_deal_age_days", "log1p_amount", "amount_missing",
	"owner_win_logit", "team_win_logit", "log1p_stage_changes", "log1p_backward_moves",
	"log1p_close_date_pushes", "log1p_amount_changes", "log1p_employees", "employees_missing",
	"existing_customer", "close_date_passed", "close_date_missing", "team_stage_win_logit",
	"rep_logit_adjusted", "rep_missing",
}

// featurizer turns snapshots into standardised feature rows. Everything in
// it (category levels, target encodings, means and scales) is learnt from
// the training snapshots it was fitted on, never from the rows it scores.
type featurizer struct {
	names []string
	group []string // reason group of each column
	level []string // category level of one-hot columns ("" otherwise)

	stageCol, stageDaysCol, stageDays2Col               map[int]int
	typeCol, pipeCol, industryCol, regionCol, sourceCol map[string]int

	// team x stage: the shrunk win rate of the team's snapshots in the
	// stage, toward the stage's rate (pipelines differ in shape by team)
	teamStage map[teamStageKey]float64
	stageRate map[int]float64
	// rep: logit(stated) - the owner's shift, logit(mean stated) -
	// logit(observed) over the owner's training snapshots, shrunk
	repShift    map[string]float64
	repShiftAll float64
	repFill     float64

	prior               float64 // training deal win rate
	ownerEnc, teamEnc   map[string]float64
	ownerN, teamN       map[string]int
	amountFill, empFill float64 // training means used for missing values
	mean, scale         []float64
}

// encode is the shrunk target encoding of a level with n training deals of
// which w won: logit((w + m*prior) / (n + m)).
func encode(w, n int, prior, m float64) float64 {
	r := (float64(w) + m*prior) / (float64(n) + m)
	r = math.Min(math.Max(r, 1e-4), 1-1e-4)
	return stats.Logit(r)
}

func fitFeaturizer(dt *dealTable, snaps []snap, opt Options) *featurizer {
	fz := &featurizer{stageCol: map[int]int{}, stageDaysCol: map[int]int{}, stageDays2Col: map[int]int{}, typeCol: map[string]int{}, pipeCol: map[string]int{},
		industryCol: map[string]int{}, regionCol: map[string]int{}, sourceCol: map[string]int{},
		teamStage: map[teamStageKey]float64{}, stageRate: map[int]float64{}, repShift: map[string]float64{},
		ownerEnc: map[string]float64{}, teamEnc: map[string]float64{}, ownerN: map[string]int{}, teamN: map[string]int{}}
	for j := 0; j < nNumeric; j++ {
		fz.names = append(fz.names, numericNames[j])
		fz.level = append(fz.level, "")
	}
	fz.group = append(fz.group, "days_in_stage", "age", "amount", "amount", "owner", "team", "changes",
		"backward", "pushes", "amount_changes", "employees", "employees", "customer", "close_date", "close_date", "team", "rep", "rep")

	// deal-level counts for the encodings: one vote per training deal
	seen := map[int]bool{}
	ownerW, ownerN, teamW, teamN := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var wins, deals int
	stageN, typeN, pipeN, indN, regN, srcN := map[int]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	stageW := map[int]float64{}
	tsN, tsW := map[teamStageKey]int{}, map[teamStageKey]float64{}
	type repAcc struct {
		p, y  float64
		n     int
		deals map[int]bool
	}
	reps := map[string]*repAcc{}
	var allRep repAcc
	var amtSum, empSum float64
	var amtN, empN int
	for _, s := range snaps {
		i := s.deal
		stageN[s.sid]++
		typeN[dt.dealType[i]]++
		pipeN[dt.pipeline[i]]++
		indN[dt.industry[i]]++
		regN[dt.region[i]]++
		srcN[dt.source[i]]++
		stageW[s.sid] += s.y
		tk := teamStageKey{dt.team[i], s.sid}
		tsN[tk]++
		tsW[tk] += s.y
		if s.probOK {
			r := reps[dt.owner[i]]
			if r == nil {
				r = &repAcc{deals: map[int]bool{}}
				reps[dt.owner[i]] = r
			}
			p := math.Min(math.Max(s.prob, 0.01), 0.99)
			r.p += p
			r.y += s.y
			r.n++
			r.deals[i] = true
			allRep.p += p
			allRep.y += s.y
			allRep.n++
		}
		if s.amountOK {
			amtSum += math.Log1p(math.Max(s.amount, 0))
			amtN++
		}
		if dt.employeesOK[i] {
			empSum += math.Log1p(math.Max(dt.employees[i], 0))
			empN++
		}
		if seen[i] {
			continue
		}
		seen[i] = true
		w := int(dt.y[i])
		deals++
		wins += w
		ownerN[dt.owner[i]]++
		ownerW[dt.owner[i]] += w
		teamN[dt.team[i]]++
		teamW[dt.team[i]] += w
	}
	if deals > 0 {
		fz.prior = float64(wins) / float64(deals)
	} else {
		fz.prior = 0.5
	}
	for o, n := range ownerN {
		if o != "" {
			fz.ownerEnc[o] = encode(ownerW[o], n, fz.prior, opt.EncodingShrinkage)
			fz.ownerN[o] = n
		}
	}
	for t, n := range teamN {
		if t != "" {
			fz.teamEnc[t] = encode(teamW[t], n, fz.prior, opt.EncodingShrinkage)
			fz.teamN[t] = n
		}
	}
	for sid, k := range stageN {
		fz.stageRate[sid] = (stageW[sid] + opt.StageShrinkage*fz.prior) / (float64(k) + opt.StageShrinkage)
	}
	for tk, k := range tsN {
		const m = 100 // snapshots
		fz.teamStage[tk] = clampLogit((tsW[tk] + m*fz.stageRate[tk.sid]) / (float64(k) + m))
	}
	shift := func(p, y float64) float64 { return clampLogit(p) - clampLogit(y) }
	if allRep.n > 0 {
		fz.repShiftAll = shift(allRep.p/float64(allRep.n), allRep.y/float64(allRep.n))
		for o, r := range reps {
			d := float64(len(r.deals))
			raw := shift(r.p/float64(r.n), r.y/float64(r.n))
			fz.repShift[o] = (d*raw + opt.EncodingShrinkage*fz.repShiftAll) / (d + opt.EncodingShrinkage)
		}
	}
	if amtN > 0 {
		fz.amountFill = amtSum / float64(amtN)
	}
	if empN > 0 {
		fz.empFill = empSum / float64(empN)
	}

	// one-hot columns, in a stable order
	sids := make([]int, 0, len(stageN))
	for s := range stageN {
		sids = append(sids, s)
	}
	sort.Ints(sids)
	for _, s := range sids {
		fz.stageCol[s] = len(fz.names)
		fz.names = append(fz.names, "stage="+stageName(dt, s))
		fz.group = append(fz.group, "stage")
		fz.level = append(fz.level, stageName(dt, s))
	}
	for _, s := range sids {
		fz.stageDaysCol[s] = len(fz.names)
		fz.names = append(fz.names, "log1p_days_in_stage|stage="+stageName(dt, s))
		fz.group = append(fz.group, "days_in_stage")
		fz.level = append(fz.level, stageName(dt, s))
		fz.stageDays2Col[s] = len(fz.names)
		fz.names = append(fz.names, "log1p_days_in_stage^2|stage="+stageName(dt, s))
		fz.group = append(fz.group, "days_in_stage")
		fz.level = append(fz.level, stageName(dt, s))
	}
	addCat := func(prefix string, counts map[string]int, col map[string]int, minN int) {
		keys := make([]string, 0, len(counts))
		for k, n := range counts {
			if k != "" && n >= minN {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if len(keys) < 2 && len(counts) < 2 {
			return // a single level carries no information
		}
		for _, k := range keys {
			col[k] = len(fz.names)
			fz.names = append(fz.names, prefix+"="+k)
			fz.group = append(fz.group, prefix)
			fz.level = append(fz.level, k)
		}
	}
	addCat("deal_type", typeN, fz.typeCol, opt.MinCategory)
	addCat("pipeline", pipeN, fz.pipeCol, opt.MinCategory)
	addCat("industry", indN, fz.industryCol, opt.MinCategory)
	addCat("region", regN, fz.regionCol, opt.MinCategory)
	addCat("source", srcN, fz.sourceCol, opt.MinCategory)

	// the fill for a missing stated probability: the mean adjusted logit
	var rs float64
	var rn int
	for k := range snaps {
		if snaps[k].probOK {
			rs += fz.repValue(dt, &snaps[k])
			rn++
		}
	}
	if rn > 0 {
		fz.repFill = rs / float64(rn)
	}

	// standardisation
	p := len(fz.names)
	fz.mean = make([]float64, p)
	fz.scale = make([]float64, p)
	raw := make([]float64, p)
	sq := make([]float64, p)
	for k := range snaps {
		fz.raw(dt, &snaps[k], raw)
		for j, v := range raw {
			fz.mean[j] += v
			sq[j] += v * v
		}
	}
	n := float64(max(len(snaps), 1))
	for j := range fz.mean {
		fz.mean[j] /= n
		v := sq[j]/n - fz.mean[j]*fz.mean[j]
		fz.scale[j] = 1
		if v > 1e-12 {
			fz.scale[j] = math.Sqrt(v)
		}
	}
	return fz
}

type teamStageKey struct {
	team string
	sid  int
}

func clampLogit(p float64) float64 { return stats.Logit(math.Min(math.Max(p, 1e-3), 1-1e-3)) }

// repValue is the rep's stated probability on the logit scale, less the
// owner's usual shift.
func (fz *featurizer) repValue(dt *dealTable, s *snap) float64 {
	sh, ok := fz.repShift[dt.owner[s.deal]]
	if !ok {
		sh = fz.repShiftAll
	}
	return stats.Logit(math.Min(math.Max(s.prob, 0.01), 0.99)) - sh
}

func stageName(dt *dealTable, sid int) string {
	if sid < 0 || sid >= len(dt.stages) {
		return "(unknown stage)"
	}
	st := dt.stages[sid]
	if len(dt.stages) > 0 && multiplePipelines(dt) {
		return st.pipeline + "/" + st.name
	}
	return st.name
}

func multiplePipelines(dt *dealTable) bool {
	for _, s := range dt.stages {
		if s.pipeline != dt.stages[0].pipeline {
			return true
		}
	}
	return false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// raw fills out (len = number of columns) with the unstandardised features.
func (fz *featurizer) raw(dt *dealTable, s *snap, out []float64) {
	for j := range out {
		out[j] = 0
	}
	i := s.deal
	out[fDaysInStage] = math.Log1p(s.daysInStage)
	out[fAge] = math.Log1p(s.ageDays)
	if s.amountOK {
		out[fAmount] = math.Log1p(math.Max(s.amount, 0))
	} else {
		out[fAmount] = fz.amountFill
		out[fAmountMissing] = 1
	}
	prior := stats.Logit(math.Min(math.Max(fz.prior, 1e-4), 1-1e-4))
	out[fOwner], out[fTeam] = prior, prior
	if v, ok := fz.ownerEnc[dt.owner[i]]; ok {
		out[fOwner] = v
	}
	if v, ok := fz.teamEnc[dt.team[i]]; ok {
		out[fTeam] = v
	}
	out[fChanges] = math.Log1p(float64(s.changes))
	out[fBackward] = math.Log1p(float64(s.backward))
	out[fPushes] = math.Log1p(float64(s.pushes))
	out[fAmtChanges] = math.Log1p(float64(s.amtChanges))
	if dt.employeesOK[i] {
		out[fEmployees] = math.Log1p(math.Max(dt.employees[i], 0))
	} else {
		out[fEmployees] = fz.empFill
		out[fEmployeesMissing] = 1
	}
	out[fCustomer] = b2f(s.customer)
	out[fOverdue] = b2f(s.ecdOK && s.overdue)
	out[fCloseMissing] = b2f(!s.ecdOK)
	if j, ok := fz.stageCol[s.sid]; ok {
		out[j] = 1
	}
	if j, ok := fz.stageDaysCol[s.sid]; ok {
		out[j] = out[fDaysInStage]
		out[fz.stageDays2Col[s.sid]] = out[fDaysInStage] * out[fDaysInStage]
	}
	if v, ok := fz.teamStage[teamStageKey{dt.team[i], s.sid}]; ok {
		out[fTeamStage] = v
	} else if r, ok := fz.stageRate[s.sid]; ok {
		out[fTeamStage] = clampLogit(r)
	} else {
		out[fTeamStage] = clampLogit(fz.prior)
	}
	if s.probOK {
		out[fRep] = fz.repValue(dt, s)
	} else {
		out[fRep] = fz.repFill
		out[fRepMissing] = 1
	}
	for _, c := range []struct {
		col map[string]int
		v   string
	}{{fz.typeCol, dt.dealType[i]}, {fz.pipeCol, dt.pipeline[i]}, {fz.industryCol, dt.industry[i]}, {fz.regionCol, dt.region[i]}, {fz.sourceCol, dt.source[i]}} {
		if j, ok := c.col[c.v]; ok {
			out[j] = 1
		}
	}
}

// row fills out with the standardised features (x - mean) / scale.
func (fz *featurizer) row(dt *dealTable, s *snap, out []float64) {
	fz.raw(dt, s, out)
	for j := range out {
		out[j] = (out[j] - fz.mean[j]) / fz.scale[j]
	}
}

func (fz *featurizer) matrix(dt *dealTable, snaps []snap) *design {
	p := len(fz.names)
	d := &design{n: len(snaps), p: p, x: make([]float64, len(snaps)*p)}
	for k := range snaps {
		fz.row(dt, &snaps[k], d.row(k))
	}
	return d
}

// reasons names the three feature groups that move the deal's score most:
// the sum over a group's columns of coefficient x standardised value, i.e.
// the change in log-odds against a deal at the training average, largest
// in absolute value first.
func (fz *featurizer) reasons(dt *dealTable, s *snap, beta, z []float64) string {
	contrib := map[string]float64{}
	for j, v := range z {
		contrib[fz.group[j]] += beta[j+1] * v
	}
	type gc struct {
		g string
		c float64
	}
	var all []gc
	for g, c := range contrib {
		all = append(all, gc{g, c})
	}
	sort.Slice(all, func(a, b int) bool {
		if math.Abs(all[a].c) != math.Abs(all[b].c) {
			return math.Abs(all[a].c) > math.Abs(all[b].c)
		}
		return all[a].g < all[b].g
	})
	var parts []string
	for _, x := range all[:min(3, len(all))] {
		if math.Abs(x.c) < 0.005 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%+.2f)", fz.phrase(dt, s, x.g), x.c))
	}
	return strings.Join(parts, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// phrase says in plain words what a feature group's value is for a deal.
func (fz *featurizer) phrase(dt *dealTable, s *snap, g string) string {
	i := s.deal
	switch g {
	case "stage":
		return "in stage " + stageName(dt, s.sid)
	case "days_in_stage":
		return plural(int(s.daysInStage), "day", "days") + " in this stage"
	case "age":
		return "deal open " + plural(int(s.ageDays), "day", "days")
	case "amount":
		if !s.amountOK {
			return "no amount"
		}
		return fmt.Sprintf("amount %.0f", s.amount)
	case "owner":
		return fmt.Sprintf("owner %s's win record", orNone(dt.owner[i]))
	case "team":
		return fmt.Sprintf("team %s's win record", orNone(dt.team[i]))
	case "changes":
		return plural(s.changes, "stage change", "stage changes") + " so far"
	case "backward":
		return plural(s.backward, "backward move", "backward moves") + " so far"
	case "pushes":
		return "close date pushed " + plural(s.pushes, "time", "times")
	case "amount_changes":
		return "amount changed " + plural(s.amtChanges, "time", "times")
	case "employees":
		if !dt.employeesOK[i] {
			return "account size unknown"
		}
		return fmt.Sprintf("account of %.0f employees", dt.employees[i])
	case "customer":
		if s.customer {
			return "account already a customer"
		}
		return "account not yet a customer"
	case "close_date":
		switch {
		case !s.ecdOK:
			return "no expected close date"
		case s.overdue:
			return "expected close date passed"
		}
		return "expected close date ahead"
	case "deal_type":
		return "deal type " + orNone(dt.dealType[i])
	case "pipeline":
		return "pipeline " + dt.pipeline[i]
	case "industry":
		return "industry " + orNone(dt.industry[i])
	case "region":
		return "region " + orNone(dt.region[i])
	case "source":
		return "lead source " + orNone(dt.source[i])
	case "rep":
		if !s.probOK {
			return "no stated probability"
		}
		return fmt.Sprintf("%s says %.0f%%", orNone(dt.owner[i]), 100*s.prob)
	}
	return g
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
