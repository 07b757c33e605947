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
// Stages are looked up by sid+1 (the unknown stage -1 has slot 0), the
// other categories by level code (dealTable.levels); NaN marks a stage or
// level the training snapshots did not have.
type featurizer struct {
	names []string
	group []string // reason group of each column
	level []string // category level of one-hot columns ("" otherwise)

	// the one-hot column of each stage (by sid+1) and of each level of the
	// categories with columns (by code), -1 for none
	stageCol, stageDaysCol, stageDays2Col []int
	catCol                                [nCat][]int

	// team x stage: the shrunk win rate of the team's snapshots in the
	// stage, toward the stage's rate (pipelines differ in shape by team),
	// at team code x (stages+1) + sid+1
	teamStage []float64
	stageRate []float64 // by sid+1
	// rep: logit(stated) - the owner's shift, logit(mean stated) -
	// logit(observed) over the owner's training snapshots, shrunk; by
	// owner code
	repShift    []float64
	repShiftAll float64
	repFill     float64

	prior               float64   // training deal win rate
	ownerEnc, teamEnc   []float64 // by code
	ownerN, teamN       []int
	amountFill, empFill float64 // training means used for missing values
	mean, scale         []float64
}

// The one-hot groups: in each at most one column is non-zero in a row.
const (
	gStage = iota
	gDays
	gDays2
	gType
	gPipeline
	gIndustry
	gRegion
	gSource
	nGroups
)

// hotCol is a row's non-zero column in a one-hot group (-1: none) and its
// unstandardised value.
type hotCol struct {
	col int
	v   float64
}

// encode is the shrunk target encoding of a level with n training deals of
// which w won: logit((w + m*prior) / (n + m)).
func encode(w, n int, prior, m float64) float64 {
	r := (float64(w) + m*prior) / (float64(n) + m)
	r = math.Min(math.Max(r, 1e-4), 1-1e-4)
	return stats.Logit(r)
}

func nans(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

func minusOnes(n int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = -1
	}
	return v
}

// fitFeatures fits the featurizer on snaps and returns it with the
// standardised design of the same snapshots, built in the same pass.
func fitFeatures(dt *dealTable, snaps []snap, opt Options) (*featurizer, *design) {
	lv := dt.levels()
	nS := len(dt.stages) + 1
	owner, team := lv[catOwner].code, lv[catTeam].code
	nOwner, nTeam := len(lv[catOwner].names), len(lv[catTeam].names)
	fz := &featurizer{stageCol: minusOnes(nS), stageDaysCol: minusOnes(nS), stageDays2Col: minusOnes(nS)}
	for j := 0; j < nNumeric; j++ {
		fz.names = append(fz.names, numericNames[j])
		fz.level = append(fz.level, "")
	}
	fz.group = append(fz.group, "days_in_stage", "age", "amount", "amount", "owner", "team", "changes",
		"backward", "pushes", "amount_changes", "employees", "employees", "customer", "close_date", "close_date", "team", "rep", "rep")

	// deal-level counts for the encodings: one vote per training deal
	seen, repSeen := make([]bool, dt.n), make([]bool, dt.n)
	ownerW, ownerN, teamW, teamN := make([]int, nOwner), make([]int, nOwner), make([]int, nTeam), make([]int, nTeam)
	var wins, deals int
	stageN, stageW := make([]int, nS), make([]float64, nS)
	var catN [nCat][]int
	for c := catType; c < nCat; c++ {
		catN[c] = make([]int, len(lv[c].names))
	}
	tsN, tsW := make([]int, nTeam*nS), make([]float64, nTeam*nS)
	repP, repY, repN, repDeals := make([]float64, nOwner), make([]float64, nOwner), make([]int, nOwner), make([]int, nOwner)
	var allP, allY float64
	var allN int
	var amtSum, empSum float64
	var amtN, empN int
	for k := range snaps {
		s := &snaps[k]
		i := s.deal
		si := s.sid + 1
		stageN[si]++
		for c := catType; c < nCat; c++ {
			catN[c][lv[c].code[i]]++
		}
		stageW[si] += s.y
		tk := int(team[i])*nS + si
		tsN[tk]++
		tsW[tk] += s.y
		if s.probOK {
			o := owner[i]
			p := math.Min(math.Max(s.prob, 0.01), 0.99)
			repP[o] += p
			repY[o] += s.y
			repN[o]++
			if !repSeen[i] {
				repSeen[i] = true
				repDeals[o]++
			}
			allP += p
			allY += s.y
			allN++
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
		ownerN[owner[i]]++
		ownerW[owner[i]] += w
		teamN[team[i]]++
		teamW[team[i]] += w
	}
	if deals > 0 {
		fz.prior = float64(wins) / float64(deals)
	} else {
		fz.prior = 0.5
	}
	fz.ownerEnc, fz.teamEnc, fz.ownerN, fz.teamN = nans(nOwner), nans(nTeam), ownerN, teamN
	for o, n := range ownerN {
		if n > 0 && lv[catOwner].names[o] != "" {
			fz.ownerEnc[o] = encode(ownerW[o], n, fz.prior, opt.EncodingShrinkage)
		}
	}
	for t, n := range teamN {
		if n > 0 && lv[catTeam].names[t] != "" {
			fz.teamEnc[t] = encode(teamW[t], n, fz.prior, opt.EncodingShrinkage)
		}
	}
	fz.stageRate = nans(nS)
	for si, k := range stageN {
		if k > 0 {
			fz.stageRate[si] = (stageW[si] + opt.StageShrinkage*fz.prior) / (float64(k) + opt.StageShrinkage)
		}
	}
	fz.teamStage = nans(nTeam * nS)
	for tk, k := range tsN {
		if k > 0 {
			const m = 100 // snapshots
			fz.teamStage[tk] = clampLogit((tsW[tk] + m*fz.stageRate[tk%nS]) / (float64(k) + m))
		}
	}
	shift := func(p, y float64) float64 { return clampLogit(p) - clampLogit(y) }
	fz.repShift = nans(nOwner)
	if allN > 0 {
		fz.repShiftAll = shift(allP/float64(allN), allY/float64(allN))
		for o, n := range repN {
			if n > 0 {
				d := float64(repDeals[o])
				raw := shift(repP[o]/float64(n), repY[o]/float64(n))
				fz.repShift[o] = (d*raw + opt.EncodingShrinkage*fz.repShiftAll) / (d + opt.EncodingShrinkage)
			}
		}
	}
	if amtN > 0 {
		fz.amountFill = amtSum / float64(amtN)
	}
	if empN > 0 {
		fz.empFill = empSum / float64(empN)
	}

	// one-hot columns, in a stable order
	for si, k := range stageN {
		if k > 0 {
			fz.stageCol[si] = len(fz.names)
			fz.names = append(fz.names, "stage="+stageName(dt, si-1))
			fz.group = append(fz.group, "stage")
			fz.level = append(fz.level, stageName(dt, si-1))
		}
	}
	for si, k := range stageN {
		if k > 0 {
			fz.stageDaysCol[si] = len(fz.names)
			fz.names = append(fz.names, "log1p_days_in_stage|stage="+stageName(dt, si-1))
			fz.group = append(fz.group, "days_in_stage")
			fz.level = append(fz.level, stageName(dt, si-1))
			fz.stageDays2Col[si] = len(fz.names)
			fz.names = append(fz.names, "log1p_days_in_stage^2|stage="+stageName(dt, si-1))
			fz.group = append(fz.group, "days_in_stage")
			fz.level = append(fz.level, stageName(dt, si-1))
		}
	}
	addCat := func(prefix string, c int, minN int) {
		names := lv[c].names
		fz.catCol[c] = minusOnes(len(names))
		var keys []int
		present := 0
		for k, n := range catN[c] {
			if n > 0 {
				present++
			}
			if names[k] != "" && n >= minN {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(a, b int) bool { return names[keys[a]] < names[keys[b]] })
		if len(keys) < 2 && present < 2 {
			return // a single level carries no information
		}
		for _, k := range keys {
			fz.catCol[c][k] = len(fz.names)
			fz.names = append(fz.names, prefix+"="+names[k])
			fz.group = append(fz.group, prefix)
			fz.level = append(fz.level, names[k])
		}
	}
	addCat("deal_type", catType, opt.MinCategory)
	addCat("pipeline", catPipeline, opt.MinCategory)
	addCat("industry", catIndustry, opt.MinCategory)
	addCat("region", catRegion, opt.MinCategory)
	addCat("source", catSource, opt.MinCategory)

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
	return fz, fz.design(dt, snaps)
}

func clampLogit(p float64) float64 { return stats.Logit(math.Min(math.Max(p, 1e-3), 1-1e-3)) }

// repValue is the rep's stated probability on the logit scale, less the
// owner's usual shift.
func (fz *featurizer) repValue(dt *dealTable, s *snap) float64 {
	sh := fz.repShift[dt.levels()[catOwner].code[s.deal]]
	if math.IsNaN(sh) {
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

// rawParts computes the unstandardised features of s: the numeric ones
// into num, and the one column of each one-hot group it returns.
func (fz *featurizer) rawParts(dt *dealTable, s *snap, num *[nNumeric]float64) (hot [nGroups]hotCol) {
	lv := dt.levels()
	i := s.deal
	num[fDaysInStage] = math.Log1p(s.daysInStage)
	num[fAge] = math.Log1p(s.ageDays)
	num[fAmount], num[fAmountMissing] = fz.amountFill, 1
	if s.amountOK {
		num[fAmount], num[fAmountMissing] = math.Log1p(math.Max(s.amount, 0)), 0
	}
	prior := stats.Logit(math.Min(math.Max(fz.prior, 1e-4), 1-1e-4))
	num[fOwner], num[fTeam] = prior, prior
	if v := fz.ownerEnc[lv[catOwner].code[i]]; !math.IsNaN(v) {
		num[fOwner] = v
	}
	team := int(lv[catTeam].code[i])
	if v := fz.teamEnc[team]; !math.IsNaN(v) {
		num[fTeam] = v
	}
	num[fChanges] = math.Log1p(float64(s.changes))
	num[fBackward] = math.Log1p(float64(s.backward))
	num[fPushes] = math.Log1p(float64(s.pushes))
	num[fAmtChanges] = math.Log1p(float64(s.amtChanges))
	num[fEmployees], num[fEmployeesMissing] = fz.empFill, 1
	if dt.employeesOK[i] {
		num[fEmployees], num[fEmployeesMissing] = math.Log1p(math.Max(dt.employees[i], 0)), 0
	}
	num[fCustomer] = b2f(s.customer)
	num[fOverdue] = b2f(s.ecdOK && s.overdue)
	num[fCloseMissing] = b2f(!s.ecdOK)
	si := s.sid + 1
	nS := len(fz.stageCol)
	switch {
	case !math.IsNaN(fz.teamStage[team*nS+si]):
		num[fTeamStage] = fz.teamStage[team*nS+si]
	case !math.IsNaN(fz.stageRate[si]):
		num[fTeamStage] = clampLogit(fz.stageRate[si])
	default:
		num[fTeamStage] = clampLogit(fz.prior)
	}
	num[fRep], num[fRepMissing] = fz.repFill, 1
	if s.probOK {
		num[fRep], num[fRepMissing] = fz.repValue(dt, s), 0
	}
	ds := num[fDaysInStage]
	hot[gStage] = hotCol{fz.stageCol[si], 1}
	hot[gDays] = hotCol{fz.stageDaysCol[si], ds}
	hot[gDays2] = hotCol{fz.stageDays2Col[si], ds * ds}
	for g := gType; g < nGroups; g++ {
		c := catType + g - gType
		hot[g] = hotCol{-1, 0}
		if fz.catCol[c] != nil {
			hot[g] = hotCol{fz.catCol[c][lv[c].code[i]], 1}
		}
	}
	return hot
}

// raw fills out (len = number of columns) with the unstandardised features.
func (fz *featurizer) raw(dt *dealTable, s *snap, out []float64) {
	for j := range out {
		out[j] = 0
	}
	var num [nNumeric]float64
	hot := fz.rawParts(dt, s, &num)
	copy(out, num[:])
	for _, h := range hot {
		if h.col >= 0 {
			out[h.col] = h.v
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

// design computes the means and scales of the columns over snaps, as
// fitFeatures' last step, and returns the standardised design of snaps:
// the numeric columns dense (less those that are zero in every row), the
// one-hot groups as each row's column and its value less the column's
// value in a row where it is not set. Sums run over the snapshots in
// order, as over a dense matrix: a zero adds nothing.
func (fz *featurizer) design(dt *dealTable, snaps []snap) *design {
	p, n := len(fz.names), len(snaps)
	fz.mean, fz.scale = make([]float64, p), make([]float64, p)
	sq := make([]float64, p)
	x := make([]float64, n*nNumeric)
	hot := make([]hotCol, n*nGroups)
	for k := range snaps {
		num := (*[nNumeric]float64)(x[k*nNumeric:])
		h := fz.rawParts(dt, &snaps[k], num)
		copy(hot[k*nGroups:], h[:])
		for j, v := range num {
			fz.mean[j] += v
			sq[j] += v * v
		}
		for _, c := range h {
			if c.col >= 0 {
				fz.mean[c.col] += c.v
				sq[c.col] += c.v * c.v
			}
		}
	}
	nf := float64(max(n, 1))
	for j := range fz.mean {
		fz.mean[j] /= nf
		v := sq[j]/nf - fz.mean[j]*fz.mean[j]
		fz.scale[j] = 1
		if v > 1e-12 {
			fz.scale[j] = math.Sqrt(v)
		}
	}

	d := &design{n: n, p: p, base: make([]float64, p)}
	var nonzero [nNumeric]bool
	for k := 0; k < n; k++ {
		row := x[k*nNumeric : (k+1)*nNumeric]
		for j, v := range row {
			row[j] = (v - fz.mean[j]) / fz.scale[j]
			nonzero[j] = nonzero[j] || row[j] != 0
		}
	}
	for j, nz := range nonzero {
		if nz {
			d.cols = append(d.cols, j)
		}
	}
	if q := len(d.cols); q < nNumeric {
		for k := 0; k < n; k++ {
			for c, j := range d.cols {
				x[k*q+c] = x[k*nNumeric+j]
			}
		}
		x = x[:n*q]
	}
	d.x = x
	for j := nNumeric; j < p; j++ {
		d.base[j] = (0 - fz.mean[j]) / fz.scale[j]
	}
	var groups []int
	for g := 0; g < nGroups; g++ {
		for k := 0; k < n; k++ {
			if hot[k*nGroups+g].col >= 0 {
				groups = append(groups, g)
				break
			}
		}
	}
	d.g = len(groups)
	d.hot, d.delta = make([]int32, n*d.g), make([]float64, n*d.g)
	for k := 0; k < n; k++ {
		for m, g := range groups {
			h := hot[k*nGroups+g]
			d.hot[k*d.g+m] = int32(p) // the slot of no column
			if h.col >= 0 {
				d.hot[k*d.g+m] = int32(h.col)
				d.delta[k*d.g+m] = (h.v-fz.mean[h.col])/fz.scale[h.col] - d.base[h.col]
			}
		}
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
