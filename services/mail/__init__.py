"""The mail follower: `tracker up` runs it when TRACKER_EMAIL_IMAP_URL is set."""
