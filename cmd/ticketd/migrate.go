package main

import (
	"context"
	"fmt"
	"io"
)

func cmdMigrate(ctx context.Context, args []string, getenv env, stdout io.Writer) error {
	if len(args) > 0 {
		return usageError("migrate takes no arguments")
	}
	st, where, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "%s is up to date\n", where)
	return nil
}
