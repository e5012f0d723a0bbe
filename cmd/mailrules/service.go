package main

import (
	"go.uber.org/zap"

	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/internal/sdnotify"
)

// serviceOptions sets up watch's side of systemd's notification protocol
// when the service manager asks for it ($NOTIFY_SOCKET, Type=notify; and
// $WATCHDOG_USEC, WatchdogSec=): READY=1 once every mailbox is watched,
// STATUS= after passes, WATCHDOG=1 while healthy, STOPPING=1 on a signal.
func serviceOptions(opts *engine.Options, log *zap.Logger) error {
	n, err := sdnotify.FromEnv()
	if err != nil || n == nil {
		return err
	}
	opts.Notifier = n
	interval, ok, err := sdnotify.WatchdogInterval()
	if err != nil {
		return err
	}
	if ok {
		opts.WatchdogInterval = interval
		log.Info("systemd watchdog on", zap.Duration("timeout", interval))
	}
	return nil
}
