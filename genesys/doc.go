// Package genesys is the Genesys Cloud Platform API v2 client used by
// disconnectbot: it reads a conversation, finds the participant a supervisor
// means, disconnects exactly that participant and confirms the leg dropped.
//
// The client authenticates with OAuth2 client credentials
// (golang.org/x/oauth2/clientcredentials), keeps one token until shortly
// before it expires, and replaces it once when the API answers 401. Every
// method takes a context, returns typed values, and fails with a typed error:
// *APIError for answers from Genesys, *InputError for bad input caught before
// any request. ErrorKind classifies any of them and UserMessage turns them
// into a short text that is safe to show in a chat channel.
//
// The client knows no Slack: callers pass it plain text, chat markup
// already removed. How a typed phone number is read (its default country)
// is the caller's choice (PhoneReader), not a property of the client.
// MaybeApplied tells whether a failed request may nevertheless have taken
// effect, so that callers re-read before saying what happened.
//
// Retries are explicit and bounded by Config.RetryBudget: 429 honours
// Retry-After, 5xx (except 501) and transport errors back off exponentially,
// 409 is retried at most twice, and the context always wins.
//
// One request budget paces the whole Client (Config.RequestsPerMinute,
// shared by Config.Replicas; budget.go): interactive requests never wait
// for it, bulk work (WithBulkPriority) uses what they leave and follows
// Genesys's 429s and inin-ratelimit-* headers. FindStuck and Sweep
// (sweep.go) find conversations that should have ended and clear them at
// bulk priority.
//
// The package genesystest provides an in-process fake Genesys org that
// speaks the same wire format, for tests, benchmarks and demos.
package genesys
