package winprob

// The categorical attributes of a deal. The featurizer counts and looks
// them up by level code, not by string: it runs a dozen times per Run over
// up to max_snapshots snapshots.
const (
	catOwner = iota
	catTeam
	catType
	catPipeline
	catIndustry
	catRegion
	catSource
	nCat
)

// levels codes one categorical attribute: code[i] is deal i's level, names
// the level of each code (in order of first appearance; "" is a level).
type levels struct {
	names []string
	code  []int32
}

// levels returns the coded categorical attributes, building them on first
// use from the string columns.
func (dt *dealTable) levels() *[nCat]levels {
	if dt.lv != nil {
		return dt.lv
	}
	lv := &[nCat]levels{}
	for c, col := range [nCat][]string{dt.owner, dt.team, dt.dealType, dt.pipeline, dt.industry, dt.region, dt.source} {
		l := &lv[c]
		l.code = make([]int32, dt.n)
		index := map[string]int32{}
		last, lastCode := "", int32(-1)
		for i := 0; i < dt.n; i++ {
			v := col[i]
			if v == last && lastCode >= 0 {
				l.code[i] = lastCode
				continue
			}
			k, ok := index[v]
			if !ok {
				k = int32(len(l.names))
				index[v] = k
				l.names = append(l.names, v)
			}
			l.code[i], last, lastCode = k, v, k
		}
	}
	dt.lv = lv
	return lv
}
