// Package ratelimit owns keyed token buckets for failed authentication: every failure costs
// its keys (client id, source address) a token, and a key without tokens is refused before any
// credential is looked at, so a refusal says nothing about whether the client exists.
package ratelimit
