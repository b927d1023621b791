"""Publishing: claim, send, record; the daemon, one-off posts, replies, feeds in."""
