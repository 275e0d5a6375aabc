package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// loadRules installs the automation rules of TICKETD_RULES (a JSON file,
// checked against the database: a bad file stops the start with the line
// and the field at fault); without it, only the built-in rules run.
func loadRules(ctx context.Context, cfg config, eng *engine.Engine, log *slog.Logger) error {
	path := strings.TrimSpace(cfg.str("TICKETD_RULES"))
	if path == "" {
		log.Info("rules: built-in only (" + strings.Join(eng.RulesInForce().Names(), ", ") + "); set TICKETD_RULES to add yours")
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("TICKETD_RULES: %w", err)
	}
	rs, err := eng.LoadRules(ctx, core.RootID, path, data)
	if err != nil {
		return fmt.Errorf("TICKETD_RULES: %w", err)
	}
	log.Info(fmt.Sprintf("rules: %d in force from %s (%s)", len(rs.Names()), path, strings.Join(rs.Names(), ", ")))
	return nil
}

// reloadRules reads TICKETD_RULES again (on SIGHUP). The engine swaps in
// the new rules only when the whole file is good.
func reloadRules(ctx context.Context, cfg config, eng *engine.Engine, log *slog.Logger) error {
	if strings.TrimSpace(cfg.str("TICKETD_RULES")) == "" {
		log.Info("rules: nothing to reload (TICKETD_RULES is not set)")
		return nil
	}
	return loadRules(ctx, cfg, eng, log)
}
