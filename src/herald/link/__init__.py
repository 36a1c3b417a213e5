"""Short links: signed tokens, UTM-tagged or discount-wrapped redirects, click counts."""
