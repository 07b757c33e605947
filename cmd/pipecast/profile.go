package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startProfile starts the CPU profile the hidden --cpuprofile flag asks
// for: the benchmark (make bench) and docs/performance.md use it to find
// where a command spends its time.
func (a *app) startProfile() error {
	if a.cpuProfile == "" {
		return nil
	}
	f, err := os.Create(a.cpuProfile)
	if err != nil {
		return usagef("--cpuprofile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("start CPU profile: %w", err)
	}
	a.profile = f
	return nil
}

func (a *app) stopProfile() {
	if a.profile == nil {
		return
	}
	pprof.StopCPUProfile()
	a.profile.Close()
	a.profile = nil
}
