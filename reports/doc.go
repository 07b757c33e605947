// Package reports writes the monthly leadership workbook from the finished
// tables: it reads, lays out and charts; it computes nothing new, so every
// number in the workbook can be found by querying the database.
package reports
