package app

import (
	"fmt"
	"net/netip"

	"github.com/keyhold/keyhold/internal/connlimit"
)

// connReserve is the number of descriptors a connection cap must leave: the store's files
// or database connections, the metrics listener, the process's own.
const connReserve = 64

// connectionLimits fills in the default connection limits and refuses values out of range.
func (c *Config) connectionLimits() error {
	nofile := connlimit.DescriptorLimit()
	defMax, _ := connlimit.Defaults(nofile)
	switch {
	case c.MaxConnections < 0 || c.MaxConnectionsPerAddress < 0:
		return fmt.Errorf("max connections %d, max connections per address %d: must not be negative (0: derived from the descriptor limit)",
			c.MaxConnections, c.MaxConnectionsPerAddress)
	case c.MaxConnections == 0:
		c.MaxConnections = defMax
	case nofile > 0 && c.MaxConnections > nofile-connReserve:
		return fmt.Errorf("max connections %d: the descriptor limit is %d and %d must stay for the store and the process; raise the limit (ulimit -n, LimitNOFILE=) or lower --max-connections",
			c.MaxConnections, nofile, connReserve)
	}
	if c.MaxConnectionsPerAddress == 0 {
		c.MaxConnectionsPerAddress = min(c.MaxConnections, max(c.MaxConnections/8, 32))
	}
	if c.MaxConnectionsPerAddress > c.MaxConnections {
		return fmt.Errorf("max connections per address %d: more than --max-connections %d", c.MaxConnectionsPerAddress, c.MaxConnections)
	}
	return nil
}

// trusts reports whether a is one of the trusted proxies, which have no per-address share
// of connections: every client behind them comes through their addresses.
func trusts(proxies []netip.Prefix) func(netip.Addr) bool {
	return func(a netip.Addr) bool {
		for _, p := range proxies {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
}
