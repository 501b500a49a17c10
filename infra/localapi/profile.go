package main

import (
	"errors"
	"flag"
	"os"
	"runtime/pprof"
)

// The local API can profile itself while it runs (make load-profile):
// CPU from start to shutdown, and every allocation sampled meanwhile,
// written at shutdown. The functions on Lambda never do.
var (
	cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile = flag.String("memprofile", "", "write an allocation profile to this file at shutdown")
)

// profile starts what the flags ask for; the function it returns ends it
// and writes the profiles.
func profile() (stop func() error, err error) {
	var cpu *os.File
	if *cpuProfile != "" {
		if cpu, err = os.Create(*cpuProfile); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			return nil, errors.Join(err, cpu.Close())
		}
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if *memProfile != "" {
			f, err := os.Create(*memProfile)
			if err != nil {
				return errors.Join(append(errs, err)...)
			}
			errs = append(errs, pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
		}
		return errors.Join(errs...)
	}, nil
}
