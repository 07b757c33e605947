package reports

import (
	"database/sql"
	"io"

	"github.com/xuri/excelize/v2"
)

// QueryWorkbook writes a query's result as a one-sheet workbook (header row,
// one row per result row; text stays text), atomically.
func QueryWorkbook(rows *sql.Rows, path string) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = c
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for r := 2; rows.Next(); r++ {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			out[i] = normalise(v)
		}
		ref, _ := excelize.CoordinatesToCellName(1, r)
		if err := sw.SetRow(ref, out); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return WriteAtomic(path, func(w io.Writer) error { return f.Write(w) })
}
