package core

// OutboxNotice is the notice an OutboxNotify (or OutboxRuleWebhook)
// message carries in OutboxPayload.Notice.
type OutboxNotice struct {
	Kind  string `json:"kind"` // "rule", "sla"
	Rule  string `json:"rule,omitempty"`
	Event string `json:"event,omitempty"`
	Text  string `json:"text"`
	// Group is mentioned: Members are its members' names.
	Group    string   `json:"group,omitempty"`
	Members  []string `json:"members,omitempty"`
	Channels []string `json:"channels,omitempty"` // platform:workspace/channel
	Webhook  int64    `json:"webhook,omitempty"`
}
