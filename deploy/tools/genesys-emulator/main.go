// Command genesys-emulator serves the in-process Genesys Cloud emulator
// (genesys/genesystest) as a standalone process, so the real disconnectbot
// binary can be run and timed against it. It is a development tool, not
// part of the bot.
//
// It prints, one per line:
//
//	url http://127.0.0.1:PORT
//	client_id …
//	client_secret …
//	conversation <id>        (one per -calls)
//	ready
//
// and serves until SIGTERM or SIGINT. The port is chosen by the emulator
// (it is built on net/http/httptest); read it from the url line.
//
// Usage:
//
//	go run ./deploy/tools/genesys-emulator -calls 5
//
// See deploy/tools/measure-cold-disconnect.sh.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

func main() {
	calls := flag.Int("calls", 1, "how many live three-party conferences to create")
	delay := flag.Duration("disconnect-delay", 0, "how long an accepted disconnect takes to drop the leg (0 = before the 202)")
	latency := flag.Duration("latency", 0, "delay added to every response")
	flag.Parse()
	if *calls < 1 || *calls > 100000 {
		fmt.Fprintln(os.Stderr, "genesys-emulator: -calls must be between 1 and 100000")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := genesystest.New(genesystest.WithDisconnectDelay(*delay), genesystest.WithLatency(*latency))
	defer srv.Close()

	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "url", srv.URL)
	fmt.Fprintln(out, "client_id", srv.ClientID)
	fmt.Fprintln(out, "client_secret", srv.ClientSecret)
	for range *calls {
		fmt.Fprintln(out, "conversation", srv.ThreePartyConference().ID)
	}
	fmt.Fprintln(out, "ready")
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genesys-emulator:", err)
		os.Exit(1)
	}
	<-ctx.Done()
	fmt.Fprintf(os.Stderr, "genesys-emulator: served %d requests\n", len(srv.Requests()))
}
