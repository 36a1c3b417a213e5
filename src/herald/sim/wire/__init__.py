"""One module per provider wire format the simulator speaks: its routes and its receipts."""
