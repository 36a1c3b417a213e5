from tests.auth.support import client, mailer, make_user

__all__ = ["client", "mailer", "make_user"]
