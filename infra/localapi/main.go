// Command localapi serves every function's routes on one local HTTP server,
// like `sam local start-api`: the same handlers the Lambda functions run, on
// the store and notifier the environment names (embedded store by default),
// and delivers the outbox in the same process, as function sender does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/sender"
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localapi:", err)
		os.Exit(1)
	}
}

func run() (err error) {
	stopProfile, err := profile()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopProfile()) }()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := logging.New(os.Stdout, slog.LevelInfo)
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, log, app.Options{Parts: allparts.Parts()})
	if err != nil {
		return err
	}
	defer a.Close()
	h, err := a.Handler()
	if err != nil {
		return err
	}
	// The sender, inside this process: the outbox delivered as function
	// sender delivers it from the table's stream, stopped before the store
	// is closed.
	delivering, stopDelivery := context.WithCancel(ctx)
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		if err := a.Deliver(delivering, sender.Sweep); err != nil {
			log.Warn("messages are not delivered", "error", err.Error())
		}
	}()
	defer func() { stopDelivery(); <-delivered }()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := server(h)
	errc := make(chan error, 1)
	go func() { errc <- serve(srv, ln, h) }()
	log.Info("local API listening", "addr", "http://"+cfg.Addr, "pages", pagesURL(cfg.Addr), "env", cfg.Env, "store", cfg.Store, "data_dir", cfg.DataDir)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// server is the local API's HTTP server for h.
func server(h *httpapi.API) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		// "OPTIONS *" goes to h (404, with its headers) instead of
		// net/http's own answer.
		DisableGeneralOptionsHandler: true,
	}
}

// serve runs srv on ln until it is shut down. The answers net/http gives
// by itself, before any handler sees the request, go out as h's own
// (earlyAnswers).
func serve(srv *http.Server, ln net.Listener, h *httpapi.API) error {
	err := srv.Serve(earlyAnswers{Listener: ln, answer: h.EarlyAnswer})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// pagesURL is where to open the pages: on a loopback address, by the name
// localhost (cookies belong to the host name, and passkeys need it).
func pagesURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
