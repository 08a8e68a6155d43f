"""Draft, review and publish a brief from chat: stored drafts, previews, the publish path."""
