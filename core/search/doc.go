// Package search is ticketd's search language, shared by the CLI, the API
// and chat: `queue:noc status:open owner:me priority>50 "bgp flap"`.
// Parse reads it as a person typed it; the engine resolves the names, adds
// what the searcher may see, and asks the store.
package search
