"""One folder (or module) per messenger. See docs/adding-a-channel.md."""
