// Package ratelimit owns keyed failure budgets (GCRA buckets, Limiter): every failure costs
// its key one, and a key out of budget is refused before any credential is looked at, so a
// refusal says nothing about whether a client exists. Authentication failures are keyed by
// source only (an IPv4 address or an IPv6 /64, Source), never by the client id a request
// names, so that nobody can lock a client out by failing in its name. It also owns what a
// source address is: the TCP peer, or, behind the load balancers listed as Proxies, the
// client their X-Forwarded-For names.
package ratelimit
