package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg := Config{}
	flag.StringVar(&cfg.Mode, "mode", ModePrivateKeyJWT, "private_key_jwt, dpop or secret (client_secret_post alone)")
	flag.StringVar(&cfg.URL, "url", "", "the token endpoint to load (a loopback address)")
	flag.StringVar(&cfg.Endpoint, "endpoint", "", "the token endpoint's URL as keyhold names it, for aud and htu (default -url)")
	flag.StringVar(&cfg.API, "api", "", "keyhold's base URL for the credential setup of private_key_jwt (default: -url's scheme and host)")
	flag.StringVar(&cfg.Alg, "alg", "ES256", "ES256 or EdDSA: the client's signing algorithm")
	flag.IntVar(&cfg.Conns, "c", 64, "connections (one request in flight on each)")
	flag.DurationVar(&cfg.Duration, "d", 10*time.Second, "measured duration")
	flag.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "warm-up before the measured run (0 skips it); it also measures the rate the pool is signed for")
	flag.Float64Var(&cfg.Rate, "rate", 0, "expected requests/s, to size the pre-signed pool (default: the warm-up's rate, or 10000 without warm-up)")
	flag.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "timeout of one request")
	flag.Parse()
	cfg.ClientID, cfg.ClientSecret = os.Getenv("CLIENT_ID"), os.Getenv("CLIENT_SECRET")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := Run(ctx, cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "authload:", err)
		if errors.Is(err, ErrUnsupported) {
			os.Exit(3)
		}
		os.Exit(2)
	}
	res.Report(os.Stdout, cfg)
}
