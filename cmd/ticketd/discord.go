package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/connectors/discord"
	"github.com/ticketd/ticketd/core/engine"
)

// discordWiring is the Discord connector as serve runs it: the HTTP
// interactions endpoint when the public key is set, the gateway unless it
// is switched off.
type discordWiring struct {
	conn    *discord.Connector
	http    bool
	gateway bool
}

// addDiscord wires the Discord connector into the chat layer when
// DISCORD_BOT_TOKEN is set: it posts cards and lines; DISCORD_PUBLIC_KEY
// (with DISCORD_APP_ID) serves /discord/interactions; the gateway
// (DISCORD_GATEWAY) receives thread messages, and interactions when no
// interactions endpoint URL is set in Discord.
func addDiscord(cfg config, w *chatWiring, log *slog.Logger) error {
	token := cfg.str("DISCORD_BOT_TOKEN")
	if token == "" {
		if cfg.str("DISCORD_PUBLIC_KEY") != "" || cfg.str("DISCORD_APP_ID") != "" {
			return fmt.Errorf("DISCORD_APP_ID or DISCORD_PUBLIC_KEY is set but DISCORD_BOT_TOKEN is not: Discord needs the bot token")
		}
		w.parts = append(w.parts, offPart("Discord off (DISCORD_BOT_TOKEN not set)"))
		return nil
	}
	gateway, err := cfg.bool("DISCORD_GATEWAY")
	if err != nil {
		return err
	}
	if cfg.str("DISCORD_PUBLIC_KEY") != "" && cfg.str("DISCORD_APP_ID") == "" {
		return fmt.Errorf("DISCORD_PUBLIC_KEY is set: set DISCORD_APP_ID too (the application id of the developer portal)")
	}
	if cfg.str("DISCORD_PUBLIC_KEY") == "" && !gateway {
		return fmt.Errorf("DISCORD_GATEWAY=false and no DISCORD_PUBLIC_KEY: Discord could not reach ticketd at all; " +
			"set DISCORD_PUBLIC_KEY and DISCORD_APP_ID (interactions endpoint) or turn the gateway on")
	}
	conn, err := discord.New(w.bot, discordConfig(cfg, log))
	if err != nil {
		return err
	}
	w.senders = append(w.senders, bot.NewSender(w.bot, conn))
	w.parts = append(w.parts, &discordWiring{conn: conn, http: cfg.str("DISCORD_PUBLIC_KEY") != "", gateway: gateway})
	return nil
}

func discordConfig(cfg config, log *slog.Logger) discord.Config {
	return discord.Config{BotToken: cfg.str("DISCORD_BOT_TOKEN"), AppID: cfg.str("DISCORD_APP_ID"),
		PublicKey: cfg.str("DISCORD_PUBLIC_KEY"), APIURL: cfg.str("DISCORD_API_URL"), Logger: log.With("component", "discord")}
}

func (d *discordWiring) mount(mux *http.ServeMux, _ *engine.Engine) {
	if d.http {
		mux.Handle("POST /discord/interactions", d.conn.Handler())
	}
}

func (d *discordWiring) start(ctx context.Context, log *slog.Logger) {
	if d.gateway {
		if err := d.conn.StartGateway(ctx); err != nil {
			log.Error("the Discord gateway did not start", "err", err)
		}
	}
}

func (d *discordWiring) stop() { d.conn.Stop() }

func (d *discordWiring) describe() string {
	var on []string
	if d.http {
		on = append(on, "HTTP: /discord/interactions")
	}
	if d.gateway {
		on = append(on, "gateway")
	}
	return "Discord on (" + strings.Join(on, ", ") + ")"
}

const discordUsage = `Usage: ticketd discord register-commands [--guild GUILD_ID]

Registers ticketd's application commands with Discord (/ticket, and "Open
ticket" on messages' Apps menu), replacing the application's commands: in
one guild (available at once), or globally (every guild the bot is in;
Discord may take a while to show them). Needs
DISCORD_BOT_TOKEN and DISCORD_APP_ID (and DISCORD_API_URL to point
elsewhere), from the environment or TICKETD_CONFIG.
`

// cmdDiscord runs `ticketd discord ...`.
func cmdDiscord(ctx context.Context, args []string, getenv env, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, discordUsage)
		return nil
	}
	if args[0] != "register-commands" {
		return usageError(fmt.Sprintf("unknown discord command %q\n\n%s", args[0], discordUsage))
	}
	fs := flag.NewFlagSet("discord register-commands", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	guild := fs.String("guild", "", "")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		return usageError(discordUsage)
	}
	cfg, err := loadConfig(getenv, nil)
	if err != nil {
		return err
	}
	if cfg.str("DISCORD_BOT_TOKEN") == "" || cfg.str("DISCORD_APP_ID") == "" {
		return fmt.Errorf("set DISCORD_BOT_TOKEN and DISCORD_APP_ID (the bot token and the application id of the developer portal)")
	}
	dc := discordConfig(cfg, slog.New(slog.DiscardHandler))
	dc.PublicKey = "" // not needed to register
	conn, err := discord.New(nil, dc)
	if err != nil {
		return err
	}
	cmds, err := conn.RegisterCommands(ctx, *guild)
	if err != nil {
		return fmt.Errorf("registering the commands: %w", err)
	}
	where := "globally (Discord may take a while to show them everywhere)"
	if *guild != "" {
		where = "in guild " + *guild
	}
	for _, c := range cmds {
		if c.Type == discordgo.MessageApplicationCommand {
			fmt.Fprintf(stdout, "registered %q on messages' Apps menu (id %s) %s\n", c.Name, c.ID, where)
			continue
		}
		fmt.Fprintf(stdout, "registered /%s (id %s) %s\n", c.Name, c.ID, where)
	}
	return nil
}
