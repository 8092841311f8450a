"""Email: a support mailbox over IMAP turned into core's messages."""

SOURCE = "email"
