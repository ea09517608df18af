"""A factory that sets no secret key: the App is built when the command line calls it."""

from microraab import App


def create_app() -> App:
    made = App(__name__)
    made.add_url_rule("/made", "made", lambda request: "made")
    return made
