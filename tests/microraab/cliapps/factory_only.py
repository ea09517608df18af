"""A module with only a factory."""

from microraab import App


def create_app() -> App:
    made = App(__name__, config={"SECRET_KEY": "cli-test"})
    made.add_url_rule("/made", "made", lambda request: "made")
    return made
