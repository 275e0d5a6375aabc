package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int64
	Name    string
	SQL     string
}

// ReadMigrations reads the files NNNN_name.sql in dir of fsys, in version
// order. Numbers must be positive and distinct.
func ReadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return int(a.Version - b.Version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s have the same number", ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// Migrate brings the schema up to date: it applies the migrations not yet
// recorded in schema_migrations, in order, in one write transaction that holds the dialect's migration lock, so
// that it is safe to run again and from several processes at once. When it
// applies migration 1 (the database was empty) it seeds the database with
// core.Seed in the same transaction.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := ReadMigrations(s.Migrations, s.MigrationsDir)
	if err != nil {
		return err
	}
	return s.retry(ctx, func() error {
		return s.run(ctx, s.BeginWrite, func(q Querier) error { return s.migrate(ctx, q, ms) })
	})
}

func (s *Store) migrate(ctx context.Context, q Querier, ms []Migration) error {
	d := s.Dialect
	if d.MigrationLock != "" {
		if _, err := q.Exec(ctx, d.MigrationLock); err != nil {
			return core.Internal(err, "lock for migrations")
		}
	}
	if _, err := q.Exec(ctx, d.MigrationsTable); err != nil {
		return core.Internal(err, "create schema_migrations")
	}
	applied := map[int64]bool{}
	rows, err := q.Query(ctx, d.rebind(qMigrationsApplied))
	if err != nil {
		return core.Internal(err, "read schema_migrations")
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return core.Internal(err, "read schema_migrations")
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return core.Internal(err, "read schema_migrations")
	}
	rows.Close()
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if _, err := q.Exec(ctx, m.SQL); err != nil {
			return core.Internal(err, "apply migration "+m.Name)
		}
		if _, err := q.Exec(ctx, d.rebind(qMigrationRecord), m.Version, m.Name); err != nil {
			return core.Internal(err, "record migration "+m.Name)
		}
		if m.Version == 1 {
			if err := core.Seed(ctx, newTx(d, q), time.Now()); err != nil {
				return core.Internal(err, "seed")
			}
		}
	}
	return nil
}
