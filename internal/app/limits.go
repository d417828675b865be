package app

import (
	"fmt"
	"strings"
	"time"
)

// The accepted ranges of the numeric settings. A value outside its range is refused with a
// message naming the flag and the range, never replaced by a default: `--sync-interval 0s`
// once meant the default 1s, silently.
const (
	MinTokenTTL        = time.Minute
	MaxTokenTTL        = 24 * time.Hour
	MinSyncInterval    = 10 * time.Millisecond
	MaxSyncInterval    = time.Hour
	MinShutdownTimeout = time.Second
	MaxShutdownTimeout = time.Hour
	MinChangeRetention = time.Minute
	MaxChangeRetention = 30 * 24 * time.Hour
	MinAuditRetention  = 24 * time.Hour
	MaxAuditRetention  = 100 * 365 * 24 * time.Hour
	MinStoreTimeout    = time.Second
	MaxStoreTimeout    = time.Minute
	MinMaxStaleness    = 10 * time.Second
	MaxMaxStaleness    = 7 * 24 * time.Hour
	MinCredentials     = 1
	MaxCredentials     = 1_000_000
	MinTokenCacheSize  = 1
	MaxTokenCacheSize  = 100_000_000
	MinShedDelay       = time.Millisecond
	MaxShedDelay       = time.Second
)

// CheckSettings checks the numeric settings against their ranges, naming the flags. The
// command line calls it on the values given (zero included); Open calls it after filling
// unset fields of an in-process Config with their defaults.
func CheckSettings(c *Config) error {
	if err := inRange("--token-ttl", c.TokenTTL, MinTokenTTL, MaxTokenTTL); err != nil {
		return err
	}
	if err := inRange("--sync-interval", c.SyncInterval, MinSyncInterval, MaxSyncInterval); err != nil {
		return err
	}
	if err := inRange("--change-retention", c.ChangeRetention, MinChangeRetention, MaxChangeRetention); err != nil {
		return err
	}
	if err := inRange("--audit-retention", c.AuditRetention, MinAuditRetention, MaxAuditRetention); err != nil {
		return err
	}
	if err := inRange("--store-timeout", c.StoreTimeout, MinStoreTimeout, MaxStoreTimeout); err != nil {
		return err
	}
	if err := inRange("--max-staleness", c.MaxStaleness, MinMaxStaleness, MaxMaxStaleness); err != nil {
		return err
	}
	if err := inRange("--shutdown-timeout", c.ShutdownTimeout, MinShutdownTimeout, MaxShutdownTimeout); err != nil {
		return err
	}
	if c.MaxCredentialsPerOwner < MinCredentials || c.MaxCredentialsPerOwner > MaxCredentials {
		return fmt.Errorf("--max-credentials-per-owner %d: must be between %d and %d", c.MaxCredentialsPerOwner, MinCredentials, MaxCredentials)
	}
	if c.ShedDelay != 0 {
		if err := inRange("--shed-delay", c.ShedDelay, MinShedDelay, MaxShedDelay); err != nil {
			return fmt.Errorf("%w (0s: never shed by delay)", err)
		}
	}
	if c.TokenCacheSize < MinTokenCacheSize || c.TokenCacheSize > MaxTokenCacheSize {
		return fmt.Errorf("--token-cache-size %d: must be between %d and %d", c.TokenCacheSize, MinTokenCacheSize, MaxTokenCacheSize)
	}
	return nil
}

func inRange(flag string, v, lo, hi time.Duration) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s %s: must be between %s and %s", flag, short(v), short(lo), short(hi))
	}
	return nil
}

// short writes a duration as it would be typed: 1m, 24h, 1h30m rather than 1m0s, 24h0m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
