package sqlstore

// Every query the store runs, in both dialects, written with $n placeholders.
// What differs between databases (full-text search, array parameters, row
// locks) comes from the Dialect; the dynamic parts of ticket searches are
// assembled in search.go from the column names below.

// Inserts into tables with unique keys skip a conflicting row instead of
// failing: a statement that fails aborts a Postgres transaction, and a
// duplicate must not end the caller's transaction. The store reports the
// skipped row as core.ErrDuplicate.
const (
	onConflict   = ` ON CONFLICT DO NOTHING`
	onConflictID = onConflict + ` RETURNING id`
)

const (
	qMigrationsApplied = `SELECT version FROM schema_migrations`
	qMigrationRecord   = `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`
)

// Tickets. ticketColumns is the order scanTicket reads.
const (
	ticketColumns = `t.id, t.effective_id, t.queue_id, t.subject, t.status, t.owner_id, t.priority,
		t.due, t.created, t.started, t.resolved, t.told, t.last_updated, t.last_updated_by,
		t.creator_id, t.time_estimated, t.time_worked, t.time_left, t.dedup_key, t.version,
		t.initial_priority, t.final_priority, t.waiting`

	// qTicketInsert takes the new ticket's id first (Dialect.NextTicketID,
	// the %s) so that effective_id = id needs no second write of the row and
	// of its indexes.
	qTicketInsert = `INSERT INTO tickets (id, effective_id, queue_id, subject, status, owner_id, priority,
		due, created, started, resolved, told, last_updated, last_updated_by,
		creator_id, time_estimated, time_worked, time_left, dedup_key, version, initial_priority, final_priority, waiting)
		SELECT n.id, COALESCE(NULLIF(CAST($1 AS bigint), 0), n.id), $2, $3, $4, $5, $6, $7, $8, $9, $10,
			$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22
		FROM (SELECT %s AS id) n
		RETURNING id`
	qTicket       = `SELECT ` + ticketColumns + ` FROM tickets t WHERE t.id = $1`
	qTicketUpdate = `UPDATE tickets SET effective_id = $2, queue_id = $3, subject = $4, status = $5,
		owner_id = $6, priority = $7, due = $8, created = $9, started = $10, resolved = $11, told = $12,
		last_updated = $13, last_updated_by = $14, creator_id = $15, time_estimated = $16,
		time_worked = $17, time_left = $18, dedup_key = $19, version = $20, initial_priority = $21,
		final_priority = $22, waiting = $23
		WHERE id = $1`
	qRepointMerged = `UPDATE tickets SET effective_id = $2 WHERE effective_id = $1`
	qMergedInto    = `SELECT id FROM tickets WHERE effective_id = $1 OR id = $1 ORDER BY id`
	// The dedup_key <> '' term lets the partial index serve the query.
	qTicketByDedupKey = `SELECT ` + ticketColumns + ` FROM tickets t
		WHERE t.dedup_key = $1 AND t.dedup_key <> ''`
	qTicketByDedupKeyOrder = ` ORDER BY t.id DESC LIMIT 1`
	qStatusCounts          = `SELECT status, COUNT(*) FROM tickets WHERE queue_id = $1 GROUP BY status`
)

// Watchers and links.
const (
	qWatchers      = `SELECT ticket_id, role, user_id FROM watchers WHERE ticket_id = $1 ORDER BY role, user_id`
	qWatcherAdd    = `INSERT INTO watchers (ticket_id, role, user_id) VALUES ($1, $2, $3)` + onConflict
	qWatcherRemove = `DELETE FROM watchers WHERE ticket_id = $1 AND role = $2 AND user_id = $3`
	qLinkAdd       = `INSERT INTO links (type, base, target) VALUES ($1, $2, $3)` + onConflict
	qLinkRemove    = `DELETE FROM links WHERE type = $1 AND base = $2 AND target = $3`
	qLinks         = `SELECT type, base, target FROM links WHERE base = $1 OR target = $1
		ORDER BY base, type, target`
)

// History. The history of a ticket includes the tickets merged into it.
const (
	qTransactionInsert = `INSERT INTO transactions (ticket_id, type, field, old_value, new_value, data,
		actor_id, time_taken, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`
	// qFirstResponse notes $1 as the first response of ticket $2 by $3;
	// qFirstResponseStaff adds the test for a reply: $3 is staff and no
	// requester ($4) of the ticket.
	qFirstResponse      = `UPDATE tickets SET first_response = $1 WHERE id = $2 AND first_response IS NULL`
	qFirstResponseStaff = ` AND EXISTS (SELECT 1 FROM users u WHERE u.id = $3 AND u.privileged)
		AND NOT EXISTS (SELECT 1 FROM watchers w WHERE w.ticket_id = $2 AND w.role = $4 AND w.user_id = $3)`
	qTransactionInsertID = `INSERT INTO transactions (id, ticket_id, type, field, old_value, new_value,
		data, actor_id, time_taken, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	qAttachmentInsert = `INSERT INTO attachments (transaction_id, content_type, filename, headers,
		content, size) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
	mergedTickets = `SELECT id FROM tickets WHERE effective_id = $1 OR id = $1`
	qTransactions = `SELECT id, ticket_id, type, field, old_value, new_value, data, actor_id,
		time_taken, created FROM transactions WHERE ticket_id IN (` + mergedTickets + `) ORDER BY id`
	attachmentColumns  = `a.id, a.transaction_id, a.content_type, a.filename, a.headers, a.content, a.size`
	qTicketAttachments = `SELECT ` + attachmentColumns + ` FROM attachments a
		JOIN transactions x ON x.id = a.transaction_id
		WHERE x.ticket_id IN (` + mergedTickets + `) ORDER BY a.id`
	qAttachment = `SELECT ` + attachmentColumns + ` FROM attachments a WHERE a.id = $1`
)

// Queues.
const (
	queueColumns = `id, name, description, correspond_address, comment_address, subject_tag,
		lifecycle, disabled, created`
	qQueueInsert = `INSERT INTO queues (name, description, correspond_address, comment_address,
		subject_tag, lifecycle, disabled, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)` + onConflictID
	qQueueUpdate = `UPDATE queues SET name = $2, description = $3, correspond_address = $4,
		comment_address = $5, subject_tag = $6, lifecycle = $7, disabled = $8, created = $9
		WHERE id = $1`
	qQueue       = `SELECT ` + queueColumns + ` FROM queues WHERE id = $1`
	qQueueByName = `SELECT ` + queueColumns + ` FROM queues WHERE lower(name) = lower($1)`
	qQueues      = `SELECT ` + queueColumns + ` FROM queues ORDER BY lower(name), id`
)

// Users.
const (
	userColumns = `id, name, email, real_name, privileged, disabled, created`
	qUserInsert = `INSERT INTO users (name, email, real_name, privileged, disabled, created)
		VALUES ($1, $2, $3, $4, $5, $6)` + onConflictID
	qUserUpdate = `UPDATE users SET name = $2, email = $3, real_name = $4, privileged = $5,
		disabled = $6, created = $7 WHERE id = $1`
	qUser       = `SELECT ` + userColumns + ` FROM users WHERE id = $1`
	qUserByName = `SELECT ` + userColumns + ` FROM users WHERE lower(name) = lower($1)`
	// The email <> '' term lets the partial unique index serve the query.
	qUserByEmail = `SELECT ` + userColumns + ` FROM users WHERE lower(email) = lower($1) AND email <> ''`
	qUsers       = `SELECT ` + userColumns + ` FROM users ORDER BY lower(name), id`
)

// Groups and members.
const (
	groupColumns  = `id, name, description, system`
	qGroupInsert  = `INSERT INTO groups (name, description, system) VALUES ($1, $2, $3)` + onConflictID
	qGroup        = `SELECT ` + groupColumns + ` FROM groups WHERE id = $1`
	qGroupByName  = `SELECT ` + groupColumns + ` FROM groups WHERE lower(name) = lower($1)`
	qGroups       = `SELECT ` + groupColumns + ` FROM groups ORDER BY lower(name), id`
	qMemberAdd    = `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)` + onConflict
	qMemberRemove = `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`
	qMembers      = `SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id`
	qUserGroups   = `SELECT group_id FROM group_members WHERE user_id = $1 ORDER BY group_id`
)

// Lifecycles.
const (
	qLifecyclePut = `INSERT INTO lifecycles (name, definition) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET definition = excluded.definition`
	qLifecycles = `SELECT name, definition FROM lifecycles ORDER BY name`
)

// Grants. "right" is a keyword in both dialects.
const (
	grantColumns = `id, "right", queue_id, principal_type, principal_id, role`
	qGrantInsert = `INSERT INTO grants ("right", queue_id, principal_type, principal_id, role)
		VALUES ($1, $2, $3, $4, $5)` + onConflictID
	qGrantDelete = `DELETE FROM grants WHERE "right" = $1 AND queue_id = $2 AND principal_type = $3
		AND principal_id = $4 AND role = $5`
	qGrants = `SELECT ` + grantColumns + ` FROM grants ORDER BY id`
	// qGrantsFor is completed with the condition on the given groups, which
	// is a list: " OR principal_id IN (...)", or nothing.
	qGrantsFor = `SELECT ` + grantColumns + ` FROM grants
		WHERE (principal_type = 'user' AND principal_id = $1) OR principal_type = 'role'
		OR (principal_type = 'group' AND (principal_id IN
			(SELECT group_id FROM group_members WHERE user_id = $1)%s))`
	qGrantsForOrder = ` ORDER BY id`
)

// Outbox.
const (
	qOutboxInsert = `INSERT INTO outbox (key, ticket_id, transaction_id, kind, audience, payload, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7)` + onConflictID
	qOutbox = `SELECT id, key, ticket_id, transaction_id, kind, audience, payload, created
		FROM outbox WHERE id > $1 ORDER BY id LIMIT $2`
)
