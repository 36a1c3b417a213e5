"""Messages, outbound and inbound, their events, and the dispatch that sends them."""
