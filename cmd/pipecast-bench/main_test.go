package main

import (
	"testing"
	"time"
)

// The median run by wall time, carrying the largest peak RSS of all runs.
func TestMedian(t *testing.T) {
	runs := []step{
		{name: "ingest", wall: 13 * time.Second, rssKiB: 900},
		{name: "ingest", wall: 11 * time.Second, rssKiB: 700},
		{name: "ingest", wall: 12 * time.Second, rssKiB: 800},
	}
	m := median(runs)
	if m.wall != 12*time.Second || m.rssKiB != 900 {
		t.Errorf("median = %v, %d KiB; want 12s, 900 KiB", m.wall, m.rssKiB)
	}
	if one := median(runs[1:2]); one.wall != 11*time.Second || one.rssKiB != 700 {
		t.Errorf("median of one run = %v, %d KiB", one.wall, one.rssKiB)
	}
	if runs[0].wall != 13*time.Second {
		t.Error("median reordered its argument")
	}
}
