//go:build race

package main

// raceEnabled: the test binary is built with -race, so the binary under
// test is too (it then reuses the same compiled packages from the cache).
const raceEnabled = true
