// Package account is how people sign in: passwords (hashed by the caller,
// kept here as PHC strings), server-side sessions, TOTP second factors
// with recovery codes, and the rule that anyone holding an admin right
// must give a second factor. It imports core only; the web connector
// serves its pages, and storage implements its Store.
package account
