"""Front ends that draw a Reply: plain text for the console, embeds and views for Discord."""
