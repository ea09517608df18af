"""The greeting app on microraab: routing, request, response and templates done for you."""

import os

from microraab import App

# No sessions here, so development mode (unless MICRORAAB_ENV says otherwise) needs no
# SECRET_KEY; production mode refuses to start without one.
ENV = os.environ.get("MICRORAAB_ENV", "development")
app = App(__name__, static_folder=None, config={"ENV": ENV})


@app.route("/")
def index(request):
    return app.render(request, "hello.html", name=request.args.get("name", "World"))


@app.route("/api/hello/<name>")
def hello(request, name):
    return {"greeting": f"Hello, {name}!"}


if __name__ == "__main__":
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", int(os.environ.get("PORT", "5000")), app)
