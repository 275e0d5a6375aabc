package sqlstore

import (
	"context"
	"fmt"

	"github.com/ticketd/ticketd/core"
)

func scanQueue(s scanner) (*core.Queue, error) {
	q := &core.Queue{}
	err := s.Scan(&q.ID, &q.Name, &q.Description, &q.CorrespondAddress, &q.CommentAddress,
		&q.SubjectTag, &q.Lifecycle, &q.Disabled, timeDest{&q.Created})
	return q, err
}

func (x *tx) queueArgs(q *core.Queue) []any {
	return []any{q.Name, q.Description, q.CorrespondAddress, q.CommentAddress, q.SubjectTag,
		q.Lifecycle, q.Disabled, x.d.timeArg(q.Created)}
}

func (x *tx) InsertQueue(ctx context.Context, q *core.Queue) error {
	x.changingDirectory(ctx)
	id, err := x.insertUnique(ctx, fmt.Sprintf("queue %q", q.Name), qQueueInsert, x.queueArgs(q)...)
	if err == nil {
		q.ID = id
	}
	return err
}

func (x *tx) UpdateQueue(ctx context.Context, q *core.Queue) error {
	x.changingDirectory(ctx)
	return x.updateUnique(ctx, fmt.Sprintf("queue %d", q.ID), qQueueUpdate, append([]any{q.ID}, x.queueArgs(q)...)...)
}

func (x *tx) Queue(ctx context.Context, id int64) (*core.Queue, error) {
	if q, ok := x.kept("queue", id); ok {
		return q.(*core.Queue), nil
	}
	return get(ctx, x, fmt.Sprintf("queue %d", id), scanQueue, qQueue, id)
}

func (x *tx) QueueByName(ctx context.Context, name string) (*core.Queue, error) {
	return get(ctx, x, fmt.Sprintf("queue %q", name), scanQueue, qQueueByName, name)
}

func (x *tx) Queues(ctx context.Context) ([]*core.Queue, error) {
	return list(ctx, x, "queues", scanQueue, qQueues)
}

func scanUser(s scanner) (*core.User, error) {
	u := &core.User{}
	err := s.Scan(&u.ID, &u.Name, &u.Email, &u.RealName, &u.Privileged, &u.Disabled, timeDest{&u.Created})
	return u, err
}

func (x *tx) userArgs(u *core.User) []any {
	return []any{u.Name, u.Email, u.RealName, u.Privileged, u.Disabled, x.d.timeArg(u.Created)}
}

func (x *tx) InsertUser(ctx context.Context, u *core.User) error {
	x.changingDirectory(ctx)
	id, err := x.insertUnique(ctx, fmt.Sprintf("user %q <%s>", u.Name, u.Email), qUserInsert, x.userArgs(u)...)
	if err == nil {
		u.ID = id
	}
	return err
}

func (x *tx) UpdateUser(ctx context.Context, u *core.User) error {
	x.changingDirectory(ctx)
	return x.updateUnique(ctx, fmt.Sprintf("user %d", u.ID), qUserUpdate, append([]any{u.ID}, x.userArgs(u)...)...)
}

func (x *tx) User(ctx context.Context, id int64) (*core.User, error) {
	if u, done, err := x.userAhead(ctx, id); done {
		return u, err
	}
	return get(ctx, x, fmt.Sprintf("user %d", id), scanUser, qUser, id)
}

func (x *tx) UserByName(ctx context.Context, name string) (*core.User, error) {
	return get(ctx, x, fmt.Sprintf("user %q", name), scanUser, qUserByName, name)
}

func (x *tx) UserByEmail(ctx context.Context, email string) (*core.User, error) {
	return get(ctx, x, fmt.Sprintf("user <%s>", email), scanUser, qUserByEmail, email)
}

func (x *tx) Users(ctx context.Context) ([]*core.User, error) {
	return list(ctx, x, "users", scanUser, qUsers)
}

func scanGroup(s scanner) (*core.Group, error) {
	g := &core.Group{}
	err := s.Scan(&g.ID, &g.Name, &g.Description, &g.System)
	return g, err
}

func (x *tx) InsertGroup(ctx context.Context, g *core.Group) error {
	x.changingDirectory(ctx)
	id, err := x.insertUnique(ctx, fmt.Sprintf("group %q", g.Name), qGroupInsert, g.Name, g.Description, g.System)
	if err == nil {
		g.ID = id
	}
	return err
}

func (x *tx) Group(ctx context.Context, id int64) (*core.Group, error) {
	return get(ctx, x, fmt.Sprintf("group %d", id), scanGroup, qGroup, id)
}

func (x *tx) GroupByName(ctx context.Context, name string) (*core.Group, error) {
	return get(ctx, x, fmt.Sprintf("group %q", name), scanGroup, qGroupByName, name)
}

func (x *tx) Groups(ctx context.Context) ([]*core.Group, error) {
	return list(ctx, x, "groups", scanGroup, qGroups)
}

func (x *tx) AddMember(ctx context.Context, groupID, userID int64) error {
	x.changingDirectory(ctx)
	return x.execUnique(ctx, memberWhat(groupID, userID), qMemberAdd, groupID, userID)
}

func (x *tx) RemoveMember(ctx context.Context, groupID, userID int64) error {
	x.changingDirectory(ctx)
	return x.execOne(ctx, memberWhat(groupID, userID), qMemberRemove, groupID, userID)
}

func memberWhat(groupID, userID int64) string {
	return fmt.Sprintf("user %d in group %d", userID, groupID)
}

func (x *tx) Members(ctx context.Context, groupID int64) ([]int64, error) {
	return list(ctx, x, fmt.Sprintf("members of group %d", groupID), scanInt64, qMembers, groupID)
}

func (x *tx) UserGroups(ctx context.Context, userID int64) ([]int64, error) {
	return list(ctx, x, fmt.Sprintf("groups of user %d", userID), scanInt64, qUserGroups, userID)
}

func (x *tx) PutLifecycle(ctx context.Context, name string, definition []byte) error {
	x.changingDirectory(ctx)
	_, err := x.exec(ctx, fmt.Sprintf("lifecycle %q", name), qLifecyclePut, name, bytesArg(definition))
	return err
}

type namedBytes struct {
	name string
	b    []byte
}

func (x *tx) Lifecycles(ctx context.Context) (map[string][]byte, error) {
	ls, err := list(ctx, x, "lifecycles", func(s scanner) (namedBytes, error) {
		var l namedBytes
		err := s.Scan(&l.name, &l.b)
		return l, err
	}, qLifecycles)
	if err != nil {
		return nil, err
	}
	m := make(map[string][]byte, len(ls))
	for _, l := range ls {
		m[l.name] = l.b
	}
	return m, nil
}

const qDirectoryVersion = `SELECT version FROM directory_version WHERE id = 1`

// DirectoryVersion reads the counter that the directory tables' triggers
// increase (migration 0009).
// It does not count as the transaction's first statement for the reads
// sent ahead with it (ahead.go): the engine reads it before anything else.
// The transaction keeps the first version it read.
func (x *tx) DirectoryVersion(ctx context.Context) (int64, error) {
	if x.version != 0 {
		return x.version, nil
	}
	first := x.g != nil && !x.g.sent
	v, err := get(ctx, x, "directory version", scanInt64, qDirectoryVersion)
	if first {
		x.g.sent = false
	}
	if err == nil && x.version == 0 {
		x.version = v
	}
	return x.version, err
}

// DirectoryChanged says whether the transaction has called a method that
// writes to the directory's tables.
func (x *tx) DirectoryChanged() bool { return x.dirChanged }

// changingDirectory notes that the transaction writes to the directory's
// tables, whose triggers increase the directory version: the version the
// transaction saw first is read before, when it was asked for
// (PrefetchDirectoryVersion) and not yet read.
func (x *tx) changingDirectory(ctx context.Context) {
	if !x.dirChanged && x.wantVersion && x.version == 0 && !x.prefetched {
		_, _ = x.DirectoryVersion(ctx) // an error shows again in the write
	}
	x.dirChanged = true
}

// PrefetchDirectoryVersion holds the read back, to be sent with the next
// statement, where the connection can (see Deferrer). Like
// DirectoryVersion, it does not count as the transaction's first statement.
func (x *tx) PrefetchDirectoryVersion() {
	x.wantVersion = true
	if x.g == nil || x.version != 0 || x.prefetched {
		return
	}
	df, ok := x.g.q.(Deferrer)
	if !ok {
		return
	}
	x.prefetched = true
	df.Defer(Deferred{Query: x.d.rebind(qDirectoryVersion), Returning: true,
		Done: func(_ int64, row Row, err error) error {
			var v int64
			if err == nil {
				err = row.Scan(&v)
			}
			if err != nil {
				return core.Internal(err, "read directory version")
			}
			if x.version == 0 {
				x.version = v
			}
			return nil
		}})
}
