package reports

import (
	"github.com/xuri/excelize/v2"
)

func writeSummary(s *sheet) error {
	s.title("Summary", "pipecast report for "+s.b.month.Format("January 2006")+", data as of "+s.b.asOf.Format("2 January 2006")+".")
	return nil
}

func writeShape(s *sheet) error {
	s.title("Shape", "Where lost deals were lost: an ideal pipeline drops them by Qualification, an expensive one loses them late, after the most effort.")
	_, _, err := s.section("Verdict", "pipeline_shape", "No lost deals yet.",
		[]col{{"Scope", fText, 10}, {"Value", fText, 18}, {"Lost deals", fInt, 10}, {"Lost by Qualification", fPct, 14},
			{"Low (95%)", fPct, 10}, {"High (95%)", fPct, 10}, {"Shape", fText, 16}, {"Reason", fText, 90}},
		`SELECT scope, scope_value, lost_deals, early_loss_share, early_loss_lo, early_loss_hi, shape, reason
		 FROM pipeline_shape WHERE scope IN ('all', 'pipeline', 'team') ORDER BY scope, scope_value`)
	return err
}

func writeWinProb(s *sheet) error {
	s.title("Win probability", "How trustworthy is each probability: the CRM's stage percentages, the reps' own and pipecast's model, on deals that closed after the model was fitted.")
	_, _, err := s.section("Accuracy by source (lower Brier, log loss and ECE are better)", "model_metrics", "No evaluation yet.",
		[]col{{"Source", fText, 16}, {"Deals", fInt, 8}, {"Brier", fNum, 8}, {"Skill vs CRM", fNum, 12}, {"Log loss", fNum, 9},
			{"ECE", fNum, 8}, {"AUC", fNum, 8}},
		`SELECT source, n, brier, bss, log_loss, ece, auc FROM model_metrics ORDER BY brier`)
	return err
}

func writeReps(s *sheet) error {
	s.title("Reps", "Each owner's calibration: do their own probabilities match what they win?")
	_, _, err := s.section("Rep calibration", "rep_calibration", "The export has no rep probabilities, so calibration cannot be judged.",
		[]col{{"Owner", fText, 18}, {"Snapshots", fInt, 10}, {"Stated", fPct, 10}, {"Won", fPct, 10}, {"Bias", fPct, 10},
			{"Low", fPct, 10}, {"High", fPct, 10}, {"Verdict", fText, 14}},
		`SELECT owner, n, mean_stated, observed, bias, bias_lo, bias_hi, verdict FROM rep_calibration ORDER BY owner`)
	return err
}

func writeForecast(s *sheet) error {
	s.title("Forecast", "Expected bookings with a P10-P90 range, beside the classic weighted pipeline.")
	_, _, err := s.section("Forecast", "forecast", "No forecast.",
		[]col{{"Period", fDate, 12}, {"Component", fText, 10}, {"Method", fText, 16}, {"Expected", fMoney, 14}, {"P10", fMoney, 14},
			{"P50", fMoney, 14}, {"P90", fMoney, 14}},
		`SELECT period, component, method, expected, p10, p50, p90 FROM forecast WHERE scope = 'all' ORDER BY period, component, method`)
	return err
}

func writeAccounts(s *sheet) error {
	s.title("Accounts", "Customers, ex-customers and prospects; A/B/C by revenue over the last 12 months; prospects that could become A customers.")
	_, _, err := s.section("Customers by revenue", "account_segments", "No customers.",
		[]col{{"Account", fText, 14}, {"Name", fText, 28}, {"Relationship", fText, 13}, {"Class", fText, 7}, {"Revenue 12m", fMoney, 14},
			{"Share", fPct, 9}, {"Cumulative", fPct, 11}, {"Potential", fText, 10}, {"Flag", fText, 14}, {"Stage", fText, 14}},
		`SELECT account_id, name, relationship, abc, revenue_12m, revenue_share, cumulative_share, potential, flag, lifecycle_stage
		 FROM account_segments WHERE relationship = 'customer' ORDER BY cumulative_share LIMIT ?`, s.b.opt.MaxRows)
	return err
}

var _ = excelize.Bar
