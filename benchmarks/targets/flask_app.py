"""Flask, written the way its documentation shows."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request

from app import worlds
from benchmarks.targets.shared import FORTUNES_TEMPLATE, HELLO, TEMPLATES, database_provider

app = Flask(__name__, template_folder=str(TEMPLATES))
provider = database_provider()


@app.route("/json")
def json_view() -> Response:
    return jsonify(message=HELLO)


@app.route("/plaintext")
def plaintext() -> Response:
    return Response(HELLO, mimetype="text/plain")


@app.route("/db")
def db() -> Response:
    return jsonify(worlds.random_world(provider.database))


@app.route("/queries")
def queries() -> Response:
    count = worlds.parse_queries(request.args.get("queries"))
    return jsonify(worlds.random_worlds(provider.database, count))


@app.route("/fortunes")
def fortunes() -> str:
    return render_template(FORTUNES_TEMPLATE, fortunes=worlds.fortunes(provider.database))


@app.route("/updates")
def updates() -> Response:
    count = worlds.parse_queries(request.args.get("queries"))
    return jsonify(worlds.update_worlds(provider.database, count))
