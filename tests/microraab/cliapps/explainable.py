"""A small app with one rule for each thing ``python -m microraab explain`` tells apart."""

from pathlib import Path

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from microraab import App, Module, Request

HERE = Path(__file__).resolve().parent

app = App(__name__, static_folder=HERE.parent / "static", config={"SECRET_KEY": "cli-test"})


@app.route("/")
def index(request: Request) -> str:
    return "home"


@app.route("/items/")
def items(request: Request) -> str:
    return "all items"


@app.route("/items/<int:n>")
def item(request: Request, n: int) -> str:
    return f"item {n}"


@app.route("/price/<float:amount>")
def price(request: Request, amount: float) -> str:
    return f"{amount:.2f}"


app.add_url_rule("/old/<int:n>", "old_item", redirect_to="/items/<n>")
app.add_url_rule("/gone", "gone", redirect_to="/nowhere")
app.add_url_rule("/elsewhere", "elsewhere", redirect_to="https://example.com/")
app.add_url_rule("/ws", "socket", lambda request: "", websocket=True)

api = Module("api", url_prefix="/api", api=True, csrf=False)


@api.route("/links/<code>")
def get_link(request: Request, code: str) -> dict[str, str]:
    return {"code": code}


@api.route("/links/<code>", methods=["DELETE"])
def delete_link(request: Request, code: str) -> tuple[str, int]:
    return "", 204


app.register(api)

bench = App("bench", static_folder=None, config={"SECRET_KEY": "cli-test"})
bench.add_url_rule("/json", "json", lambda request: {"message": "Hello, World!"})


def raw(environ: object, start_response: object) -> list[bytes]:
    return [b"not a microraab app"]


app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
    app.wsgi_app, {"/bench": bench, "/raw": raw}
)


@app.route("/custom-options", methods=["GET", "OPTIONS"])
def custom_options(request: Request) -> tuple[str, int]:
    return "", 204
