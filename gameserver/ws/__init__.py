"""RFC 6455 WebSocket (+ RFC 7692 permessage-deflate): sans-IO core and a Trio adapter."""
