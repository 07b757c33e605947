package crm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pipecast/pipecast/ingest"
)

// salesforce reads Salesforce exports: the weekly Data Export, Data Loader
// and Bulk API CSVs (API field names) and Opportunity report exports
// (field labels). The lookups (User, CurrencyType, DatedConversionRate) are
// read before the opportunities and fill owner names and exchange rates.
type salesforce struct {
	users  map[string]string  // user id → name
	conv   map[string]float64 // CurrencyType: units per unit of corporate currency
	dated  map[string]datedRate
	stages []orgStage  // OpportunityStage rows
	seen   *stageStats // stages the Opportunity and OpportunityHistory rows use
}

type datedRate struct {
	start string
	rate  float64
}

func newSalesforce() *salesforce {
	return &salesforce{users: map[string]string{}, conv: map[string]float64{}, dated: map[string]datedRate{}, seen: newStageStats()}
}

func (*salesforce) Name() string { return "salesforce" }

func (s *salesforce) Recognise(h []string) (*ingest.Recognised, error) {
	ra, err := recogniseKinds("salesforce", s.kinds(), h)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(ra.Reason, "Salesforce CurrencyType"):
		ra.Rates = func(base string) map[string]float64 { return relativeRates(s.conv, base) }
	case strings.HasPrefix(ra.Reason, "Salesforce OpportunityStage"):
		ra.Stages = s.stageDefinition
	case strings.HasPrefix(ra.Reason, "Salesforce Opportunity ("), strings.HasPrefix(ra.Reason, "Salesforce Opportunity report"):
		ra.Scan = s.scanOpportunity(newHeader(h), strings.Contains(ra.Reason, "report"))
		ra.Stages = func() *ingest.StageInfo {
			return &ingest.StageInfo{Source: "Opportunity", Stages: s.seen.stages()}
		}
	case strings.HasPrefix(ra.Reason, "Salesforce OpportunityHistory"):
		ra.Scan = s.scanHistory(newHeader(h))
	case strings.HasPrefix(ra.Reason, "Salesforce DatedConversionRate"):
		ra.Rates = func(base string) map[string]float64 {
			if len(s.conv) > 0 {
				return nil // CurrencyType, when given, is the rate used
			}
			latest := map[string]float64{}
			for c, d := range s.dated {
				latest[c] = d.rate
			}
			return relativeRates(latest, base)
		}
	}
	return ra, nil
}

// relativeRates turns Salesforce conversion rates (units of a currency per
// unit of the corporate currency) into pipecast's (base-currency units per
// unit of a currency). The base currency must be among them.
func relativeRates(conv map[string]float64, base string) map[string]float64 {
	b, ok := conv[strings.ToUpper(base)]
	if !ok || b <= 0 {
		return nil
	}
	out := map[string]float64{}
	for c, r := range conv {
		if r > 0 {
			out[c] = b / r
		}
	}
	return out
}

// sfID drops Salesforce's sentinel ids (000000000000000AAA, all zeros),
// which mean "none".
func sfID(s string) string {
	if strings.Trim(strings.TrimSuffix(s, "AAA"), "0") == "" {
		return ""
	}
	return s
}

func (s *salesforce) kinds() []kind {
	return []kind{
		{label: "Salesforce User (owner names)", role: ingest.RoleLookup, need: []string{"Id", "Username"}, build: s.userMapper},
		{label: "Salesforce DatedConversionRate (exchange rates; the latest period of each currency)", role: ingest.RoleLookup,
			need: []string{"IsoCode", "ConversionRate", "StartDate"}, build: s.datedMapper},
		{label: "Salesforce CurrencyType (exchange rates)", role: ingest.RoleLookup, need: []string{"IsoCode", "ConversionRate"}, build: s.currencyMapper},
		{label: "Salesforce OpportunityStage (the org's stages: order, kinds, default probabilities)", role: ingest.RoleLookup,
			need: []string{"MasterLabel|ApiName", "IsClosed", "IsWon", "SortOrder"}, build: s.stageMapper},
		{label: "Salesforce OpportunityHistory (API field names)", role: ingest.RoleHistory,
			need: []string{"OpportunityId", "StageName", "CreatedDate"}, build: s.historyMapper},
		{label: "Salesforce Opportunity (API field names)", role: ingest.RoleDeals,
			need: []string{"Id", "StageName", "CreatedDate", "CloseDate"}, build: s.opportunityMapper(false)},
		{label: "Salesforce Opportunity report (field labels)", role: ingest.RoleDeals,
			need: []string{"Opportunity ID", "Stage", "Created Date", "Close Date"}, build: s.opportunityMapper(true)},
		{label: "Salesforce Account (API field names)", role: ingest.RoleAccounts,
			need: []string{"Id", "Name", "BillingCountry|Industry|NumberOfEmployees|ParentId|AccountSource|AccountNumber"}, build: s.accountMapper(false)},
		{label: "Salesforce Account report (field labels)", role: ingest.RoleAccounts,
			need: []string{"Account ID", "Account Name", "Billing Country|Billing State/Province|Billing City"}, build: s.accountMapper(true)},
	}
}

func deleted(h *header) src { return h.src("IsDeleted") }

func (s *salesforce) userMapper(h *header) ingest.Mapper {
	id, name, first, last := h.src("Id"), h.src("Name"), h.src("FirstName"), h.src("LastName")
	return mapFunc(func(row ingest.Row, _ func(ingest.Record)) error {
		n := name.get(row)
		if n == "" {
			n = strings.TrimSpace(first.get(row) + " " + last.get(row))
		}
		if i := id.get(row); i != "" && n != "" {
			s.users[i] = n
			if len(i) == 18 { // opportunities may use the 15-character form
				s.users[i[:15]] = n
			}
		}
		return nil
	})
}

func (s *salesforce) currencyMapper(h *header) ingest.Mapper {
	iso, rate, active := h.src("IsoCode"), h.src("ConversionRate"), h.src("IsActive")
	h.col("IsCorporate")
	return mapFunc(func(row ingest.Row, _ func(ingest.Record)) error {
		if active.ok() && active.get(row) != "" && !truthy(active.get(row)) {
			return nil
		}
		r, err := strconv.ParseFloat(rate.get(row), 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("ConversionRate %q is not a positive number", rate.get(row))
		}
		s.conv[strings.ToUpper(iso.get(row))] = r
		return nil
	})
}

func (s *salesforce) datedMapper(h *header) ingest.Mapper {
	iso, rate, start := h.src("IsoCode"), h.src("ConversionRate"), h.src("StartDate")
	h.col("NextStartDate")
	return mapFunc(func(row ingest.Row, _ func(ingest.Record)) error {
		r, err := strconv.ParseFloat(rate.get(row), 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("ConversionRate %q is not a positive number", rate.get(row))
		}
		c, st := strings.ToUpper(iso.get(row)), start.get(row)
		if d, ok := s.dated[c]; !ok || st > d.start { // ISO dates sort as text
			s.dated[c] = datedRate{st, r}
		}
		return nil
	})
}

// opportunityMapper maps Opportunity rows. Status comes from IsClosed and
// IsWon (report columns Closed and Won), else from the stage name; the
// close date is closed_at for a closed deal and expected_close_date for an
// open one.
func (s *salesforce) opportunityMapper(labels bool) func(h *header) ingest.Mapper {
	return func(h *header) ingest.Mapper {
		pick := func(api, label string) src {
			if labels {
				return h.src(label)
			}
			return h.src(api)
		}
		id := pick("Id", "Opportunity ID")
		acct := pick("AccountId", "Account ID")
		if !acct.ok() && labels {
			acct = h.src("Account Name")
		}
		name := pick("Name", "Opportunity Name")
		stage := pick("StageName", "Stage")
		amount := pick("Amount", "Amount")
		cur := pick("CurrencyIsoCode", "Opportunity Currency|Amount Currency|Currency")
		created := pick("CreatedDate", "Created Date")
		closeDate := pick("CloseDate", "Close Date")
		isClosed := pick("IsClosed", "Closed")
		isWon := pick("IsWon", "Won")
		prob := pick("Probability", "Probability (%)|Probability")
		fc := pick("ForecastCategoryName|ForecastCategory", "Forecast Category")
		owner := pick("OwnerId", "Opportunity Owner|Owner")
		typ := pick("Type", "Type")
		source := pick("LeadSource", "Lead Source")
		loss := pick("LossReason|Loss_Reason__c|Reason_Lost__c", "Loss Reason|Lost Reason")
		del := deleted(h)
		return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
			if truthy(del.get(row)) {
				return fmt.Errorf("opportunity deleted in Salesforce (IsDeleted): not loaded")
			}
			r := ingest.NewRecord(ingest.RoleDeals)
			id.set(r, "deal_id", row)
			name.set(r, "name", row)
			stage.set(r, "stage", row)
			amount.set(r, "amount", row)
			cur.set(r, "currency", row)
			created.set(r, "created_at", row)
			prob.set(r, "probability", row)
			fc.set(r, "forecast_category", row)
			source.set(r, "source", row)
			loss.set(r, "lost_reason", row)
			if acct.ok() {
				r.Set("account_id", sfID(acct.get(row)), acct.name)
			}
			if owner.ok() {
				o := sfID(owner.get(row))
				if n, ok := s.users[o]; ok {
					o = n
				}
				r.Set("owner", o, owner.name)
			}
			if typ.ok() {
				r.Set("deal_type", dealType(typ.get(row)), typ.name)
			}
			status := sfStatus(row, stage, isClosed, isWon)
			r.Set("status", status, firstName(isClosed, isWon, stage))
			cd := closeDate.get(row)
			if status == "open" {
				r.Set("expected_close_date", cd, closeDate.name)
			} else {
				r.Set("closed_at", notBefore(cd, created.get(row)), closeDate.name)
			}
			emit(r)
			return nil
		})
	}
}

// sfStatus is an opportunity's status: from IsClosed and IsWon (report
// columns Closed and Won) when the export has them, else from the stage name.
func sfStatus(row ingest.Row, stage, isClosed, isWon src) string {
	status := statusFromStage(stage.get(row))
	if isClosed.ok() || isWon.ok() {
		switch {
		case truthy(isWon.get(row)):
			status = "won"
		case isClosed.ok() && truthy(isClosed.get(row)):
			status = "lost"
		case isClosed.ok():
			status = "open"
		}
	}
	return status
}

func firstName(ss ...src) string {
	for _, s := range ss {
		if s.ok() {
			return s.name
		}
	}
	return ""
}

// historyMapper maps OpportunityHistory rows: each is a snapshot of the
// stage, amount, close date and probability written whenever one of them
// changed. Rows that repeat the previous stage are not stage entries;
// ingest drops them (the entry keeps the values it had when entered).
func (s *salesforce) historyMapper(h *header) ingest.Mapper {
	opp, stage, at := h.src("OpportunityId"), h.src("StageName"), h.src("CreatedDate")
	amount, cd, prob := h.src("Amount"), h.src("CloseDate"), h.src("Probability")
	h.col("ForecastCategory")
	h.col("Id")
	del := deleted(h)
	return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
		if truthy(del.get(row)) {
			return fmt.Errorf("history row deleted in Salesforce (IsDeleted): not loaded")
		}
		r := ingest.NewRecord(ingest.RoleHistory)
		opp.set(r, "deal_id", row)
		stage.set(r, "stage", row)
		at.set(r, "entered_at", row)
		amount.set(r, "amount", row)
		cd.set(r, "expected_close_date", row)
		prob.set(r, "probability", row)
		emit(r)
		return nil
	})
}

func (s *salesforce) accountMapper(labels bool) func(h *header) ingest.Mapper {
	return func(h *header) ingest.Mapper {
		pick := func(api, label string) src {
			if labels {
				return h.src(label)
			}
			return h.src(api)
		}
		id, name := pick("Id", "Account ID"), pick("Name", "Account Name")
		ind, reg := pick("Industry", "Industry"), pick("BillingCountry", "Billing Country")
		emp, created := pick("NumberOfEmployees", "Employees"), pick("CreatedDate", "Created Date")
		parent := pick("ParentId", "Parent Account ID")
		del := deleted(h)
		return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
			if truthy(del.get(row)) {
				return fmt.Errorf("account deleted in Salesforce (IsDeleted): not loaded")
			}
			r := ingest.NewRecord(ingest.RoleAccounts)
			id.set(r, "account_id", row)
			name.set(r, "name", row)
			ind.set(r, "industry", row)
			reg.set(r, "region", row)
			emp.set(r, "employees", row)
			created.set(r, "created_at", row)
			if parent.ok() {
				r.Set("parent_account_id", sfID(parent.get(row)), parent.name)
			}
			emit(r)
			return nil
		})
	}
}
