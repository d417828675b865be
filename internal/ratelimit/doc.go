// Package ratelimit owns keyed token buckets for failed authentication: every failure costs
// its keys (client id, source address) a token, and a key without tokens is refused before any
// credential is looked at, so a refusal says nothing about whether the client exists. It also
// owns what a source address is: the TCP peer, or, behind the load balancers listed as
// Proxies, the client their X-Forwarded-For names.
package ratelimit
